/**
 * The guard's knobs, validated once and frozen (a rollout plan can override any of them per tenant
 * group). Each default says why it is what it is.
 */
import { type ErrorDetail, invalidInput } from '../shared/errors.js';
import type { MsprtConfig } from './msprt.js';
import { RATE_SIGNALS, type RateSignalName, type SignalName } from './signals.js';

/** One statistical check that spends part of alpha: a cohort comparison, a hard cap or the judge test. */
export type CheckId = RateSignalName | `cap:${RateSignalName}` | 'judge_similarity';

export const capCheck = (signal: RateSignalName): CheckId => `cap:${signal}`;

export const CHECK_IDS: readonly CheckId[] = [
  ...RATE_SIGNALS,
  ...RATE_SIGNALS.map(capCheck),
  'judge_similarity',
];

export interface GuardConfig {
  /**
   * Probability, over the whole stage and however often it is evaluated, that any check declares
   * a regression when there is none. Split across checks by `alphaWeights` (weighted Bonferroni).
   */
  readonly alpha: number;
  /** Share of alpha per check; 0 switches a check off. */
  readonly alphaWeights: Readonly<Record<CheckId, number>>;
  /**
   * Smallest canary-minus-control rate difference worth acting on. At large volume a sequential test
   * finds trivial differences significant; a rollback for +0.1 pp would cost more than it saves.
   */
  readonly minEffect: Readonly<Record<RateSignalName, number>>;
  /** Canary rate above which the signal is a regression whatever the control does; null: no cap. */
  readonly caps: Readonly<Record<RateSignalName, number | null>>;
  /** Trials each cohort needs, per signal, before that signal may decide anything. */
  readonly minSamples: { readonly canary: number; readonly control: number };
  readonly judge: {
    /** The canary/shadow similarity a tenant's outputs must keep (mean score in [0, 1]). */
    readonly minimum: number;
    readonly minSamples: number;
  };
  readonly latency: {
    /** Canary p99 above control p99 × (1 + this) is a regression (with `minIncreaseMs`). */
    readonly maxP99Increase: number;
    /** ... and only when the gap is at least this many ms (a 2 ms p99 is not worth a rollback). */
    readonly minIncreaseMs: number;
    readonly minSamples: number;
  };
  readonly msprt: MsprtConfig;
  /** A regression must hold for this many consecutive evaluations and this long before acting. */
  readonly persistence: { readonly evaluations: number; readonly minDurationMs: number };
  /** A held rollout resumes only after its evidence cleared this many times in a row, this long. */
  readonly recovery: { readonly evaluations: number; readonly minDurationMs: number };
  /** A cohort silent for longer than this makes the data stale: inconclusive, never a promotion. */
  readonly staleAfterMs: number;
  /** Only periods that ended this long ago are folded: telemetry arrives in batches, late. */
  readonly settleMs: number;
  /** Signals that must have enough data before the guard says `continue`. */
  readonly requiredSignals: readonly SignalName[];
}

const MINUTE = 60_000;

export const DEFAULT_GUARD_CONFIG: GuardConfig = deepFreeze({
  alpha: 0.05,
  // Tool-call failures are the signal a model upgrade breaks first and most (schema drift), so
  // they get the largest share; the feedback signals arrive late and sparse.
  alphaWeights: {
    tool_call_failure: 4,
    request_error: 2,
    coercion: 1,
    task_failure: 1,
    downstream_error: 1,
    'cap:tool_call_failure': 0.5,
    'cap:coercion': 0.5,
    'cap:request_error': 0.5,
    'cap:task_failure': 0.5,
    'cap:downstream_error': 0.5,
    judge_similarity: 1,
  },
  minEffect: {
    tool_call_failure: 0.005,
    coercion: 0.005,
    request_error: 0.005,
    task_failure: 0.02,
    downstream_error: 0.01,
  },
  // Coercion above 2% means the candidate routinely breaks the contract and the gateway is papering
  // over it (DESIGN.md: "coercion above 2% is a regression").
  caps: {
    tool_call_failure: 0.1,
    coercion: 0.02,
    request_error: null,
    task_failure: null,
    downstream_error: null,
  },
  // 100 trials: below that a handful of events is all there is, and clustering within sessions
  // (which the tests assume away) matters most.
  minSamples: { canary: 100, control: 100 },
  judge: { minimum: 0.8, minSamples: 30 },
  latency: { maxP99Increase: 0.5, minIncreaseMs: 250, minSamples: 200 },
  // Relative risks from +25% to 20×: the mixture pays ln(8) ≈ 2 nats for not knowing which.
  msprt: { rhoGrid: [1.25, 1.5, 2, 3, 5, 8, 13, 20], restartEveryMs: 60 * MINUTE },
  // Two evaluations a minute apart: enough to ignore one bad rollup period. The sequential test
  // already controls false alarms however often it is read; persistence is for data glitches.
  persistence: { evaluations: 2, minDurationMs: MINUTE },
  recovery: { evaluations: 5, minDurationMs: 10 * MINUTE },
  staleAfterMs: 15 * MINUTE,
  settleMs: 30_000,
  requiredSignals: [],
});

export type GuardConfigOverrides = {
  readonly [K in keyof GuardConfig]?: GuardConfig[K] extends readonly unknown[]
    ? GuardConfig[K]
    : GuardConfig[K] extends object
      ? Partial<GuardConfig[K]>
      : GuardConfig[K];
};

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The defaults with these overrides applied, validated and frozen. */
export function guardConfig(
  overrides: GuardConfigOverrides = {},
  base: GuardConfig = DEFAULT_GUARD_CONFIG,
): GuardConfig {
  const d = base;
  const o = overrides;
  const config: GuardConfig = {
    alpha: o.alpha ?? d.alpha,
    alphaWeights: { ...d.alphaWeights, ...o.alphaWeights },
    minEffect: { ...d.minEffect, ...o.minEffect },
    caps: { ...d.caps, ...o.caps },
    minSamples: { ...d.minSamples, ...o.minSamples },
    judge: { ...d.judge, ...o.judge },
    latency: { ...d.latency, ...o.latency },
    msprt: { ...d.msprt, ...o.msprt },
    persistence: { ...d.persistence, ...o.persistence },
    recovery: { ...d.recovery, ...o.recovery },
    staleAfterMs: o.staleAfterMs ?? d.staleAfterMs,
    settleMs: o.settleMs ?? d.settleMs,
    requiredSignals: o.requiredSignals ?? d.requiredSignals,
  };
  const problems = validate(config);
  if (problems.length > 0) {
    throw invalidInput('invalid rollback guard configuration', problems, 'Fix the listed guard settings.');
  }
  return deepFreeze(config);
}

function validate(c: GuardConfig): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const check = (ok: boolean, path: string, message: string) => {
    if (!ok) out.push({ path, message });
  };
  check(c.alpha > 0 && c.alpha < 1, '/alpha', 'must be in (0, 1)');
  for (const id of CHECK_IDS) check(c.alphaWeights[id] >= 0, `/alphaWeights/${id}`, 'must be >= 0');
  check(totalWeight(c) > 0, '/alphaWeights', 'at least one check needs a positive weight');
  for (const s of RATE_SIGNALS) {
    check(c.minEffect[s] >= 0 && c.minEffect[s] < 1, `/minEffect/${s}`, 'must be in [0, 1)');
    const cap = c.caps[s];
    check(cap === null || (cap > 0 && cap < 1), `/caps/${s}`, 'must be null or in (0, 1)');
  }
  check(c.minSamples.canary >= 1 && c.minSamples.control >= 1, '/minSamples', 'must be >= 1');
  check(c.judge.minimum > 0 && c.judge.minimum < 1, '/judge/minimum', 'must be in (0, 1)');
  check(c.judge.minSamples >= 1, '/judge/minSamples', 'must be >= 1');
  check(c.latency.maxP99Increase > 0, '/latency/maxP99Increase', 'must be > 0');
  check(c.latency.minSamples >= 1, '/latency/minSamples', 'must be >= 1');
  check(c.msprt.rhoGrid.length > 0, '/msprt/rhoGrid', 'needs at least one relative risk');
  for (const [i, rho] of c.msprt.rhoGrid.entries()) check(rho > 1, `/msprt/rhoGrid/${i}`, 'must be > 1');
  check(c.msprt.restartEveryMs >= 0, '/msprt/restartEveryMs', 'must be >= 0 (0: never restart)');
  check(c.persistence.evaluations >= 1, '/persistence/evaluations', 'must be >= 1');
  check(c.recovery.evaluations >= 1, '/recovery/evaluations', 'must be >= 1');
  check(
    c.persistence.minDurationMs >= 0 && c.recovery.minDurationMs >= 0,
    '/persistence',
    'durations must be >= 0',
  );
  check(c.staleAfterMs > 0, '/staleAfterMs', 'must be > 0');
  check(c.settleMs >= 0, '/settleMs', 'must be >= 0');
  return out;
}

function checkEnabled(c: GuardConfig, id: CheckId): boolean {
  const cappedSignal = RATE_SIGNALS.find((s) => capCheck(s) === id);
  if (cappedSignal !== undefined && c.caps[cappedSignal] === null) return false;
  return c.alphaWeights[id] > 0;
}

function totalWeight(c: GuardConfig): number {
  let sum = 0;
  for (const id of CHECK_IDS) if (checkEnabled(c, id)) sum += c.alphaWeights[id];
  return sum;
}

const alphaCache = new WeakMap<GuardConfig, Map<CheckId, number>>();

/** The part of alpha a check may spend; 0 when it is switched off. */
export function alphaFor(c: GuardConfig, id: CheckId): number {
  let shares = alphaCache.get(c);
  if (!shares) {
    const total = totalWeight(c);
    shares = new Map(
      CHECK_IDS.map((check) => [
        check,
        checkEnabled(c, check) ? (c.alpha * c.alphaWeights[check]) / total : 0,
      ]),
    );
    // Only frozen configs are cached: a config assembled by hand could still change.
    if (Object.isFrozen(c)) alphaCache.set(c, shares);
  }
  return shares.get(id) ?? 0;
}
