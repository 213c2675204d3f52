/**
 * The checks one evaluation runs over a ledger, each giving a finding with its evidence:
 *  - comparison: canary vs control on each rate (conditional mSPRT + minimum practical effect);
 *  - cap: canary rate above an absolute cap, whatever the control (beta-binomial CS lower bound);
 *  - judge: mean canary/shadow similarity below the tenant's minimum (betting CS);
 *  - latency: canary p99 well above control p99 (a persistent-ratio rule, not a test: sketch
 *    quantiles carry no per-event data to build a martingale from).
 * Every check first applies the minimum-sample guard, so a small tenant's first error decides nothing.
 */

import { boundedMeanConfidenceBounds, logEvidenceMeanBelow } from './bounded-mean-cs.js';
import { bernoulliConfidenceSequence, rateDifferenceConfidenceSequence } from './confidence-sequence.js';
import { alphaFor, capCheck, type GuardConfig } from './config.js';
import type { EvidenceWindow, Finding, MinSamplesEvidence, RateDifference } from './evidence.js';
import type { EvidenceLedger } from './ledger.js';
import { alwaysValidPValue, type RestartTerm, restartTerms } from './msprt.js';
import {
  type BernoulliCounts,
  type LatencyWindow,
  RATE_SIGNALS,
  type RateSignalName,
  rateOf,
  type SignalName,
} from './signals.js';

export const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(2)}%`);
const pp = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)} pp`;

const LABEL: Readonly<Record<SignalName, string>> = {
  tool_call_failure: 'tool-call failure rate',
  coercion: 'coercion rate',
  request_error: 'request error rate',
  task_failure: 'task failure rate',
  downstream_error: 'downstream error rate',
  judge_similarity: 'judge similarity',
  latency: 'latency p99',
};

export const signalLabel = (s: SignalName) => LABEL[s];

function windowOf(ledger: EvidenceLedger, fromMs = ledger.originMs): EvidenceWindow {
  return { fromMs, toMs: ledger.foldedThroughMs };
}

export function minSamplesEvidence(
  canary: number,
  control: number,
  required: { canary: number; control: number },
  rates: { canary: number | null; control: number | null },
  window: EvidenceWindow,
): MinSamplesEvidence {
  return {
    kind: 'min_samples',
    method: 'min-samples',
    // A cohort with no requirement (the control, for a cap) does not hold the guard back.
    statistic: Math.min(
      required.canary > 0 ? canary / required.canary : Number.MAX_VALUE,
      required.control > 0 ? control / required.control : Number.MAX_VALUE,
    ),
    threshold: 1,
    window,
    counts: { canary, control },
    required,
    rates,
  };
}

function insufficientRate(
  signal: SignalName,
  check: 'comparison' | 'cap',
  c: { canary: BernoulliCounts; control: BernoulliCounts },
  required: { canary: number; control: number },
  window: EvidenceWindow,
): Finding {
  return {
    check,
    signal,
    status: 'insufficient',
    evidence: minSamplesEvidence(
      c.canary.trials,
      c.control.trials,
      required,
      { canary: rateOf(c.canary), control: rateOf(c.control) },
      window,
    ),
    reason: `${LABEL[signal]}: ${c.canary.trials} canary / ${c.control.trials} control trials, need ${required.canary} / ${required.control}`,
  };
}

function differenceOf(canary: BernoulliCounts, control: BernoulliCounts): number | null {
  const c = rateOf(canary);
  const s = rateOf(control);
  return c === null || s === null ? null : c - s;
}

function difference(canary: BernoulliCounts, control: BernoulliCounts, alpha: number): RateDifference {
  const cs = rateDifferenceConfidenceSequence(canary, control, alpha);
  const c = rateOf(canary);
  const s = rateOf(control);
  return {
    canary: c,
    control: s,
    difference: c === null || s === null ? null : c - s,
    differenceLower: cs.lower,
    differenceUpper: cs.upper,
  };
}

/** Canary vs control on one rate signal: regressed when a restart rejects on its own with a practical effect. */
export function compareRate(ledger: EvidenceLedger, signal: RateSignalName, config: GuardConfig): Finding {
  const r = ledger.rates[signal];
  const alpha = alphaFor(config, signal);
  const stage = { canary: r.canary, control: r.control };
  if (r.canary.trials < config.minSamples.canary || r.control.trials < config.minSamples.control) {
    return insufficientRate(signal, 'comparison', stage, config.minSamples, windowOf(ledger));
  }
  const threshold = Math.log(1 / alpha);
  const minEffect = config.minEffect[signal];
  // A regression needs one restart whose own term w_k·E_k reaches 1/α (so the mixture does too)
  // and whose own data shows at least the minimum effect. Judging the effect on the restart that
  // carries the evidence matters after a late onset, when the stage-wide average would dilute a
  // real regression below the minimum effect for hours; asking it of a term that rejects on its
  // own keeps the rule monotone (a worse canary never turns a regression into a pass).
  let carrier: RestartTerm | null = null;
  let lead: RestartTerm | null = null;
  if (r.logE >= threshold) {
    for (const t of restartTerms(r, config.msprt)) {
      if (!lead || t.logTerm > lead.logTerm) lead = t;
      const d = differenceOf(t.canary, t.control);
      if (
        t.logTerm >= threshold &&
        d !== null &&
        d >= minEffect &&
        (!carrier || t.logTerm > carrier.logTerm)
      ) {
        carrier = t;
      }
    }
  }
  const shown = carrier ?? (lead && lead.logTerm >= threshold ? lead : null);
  const counts = shown ? { canary: shown.canary, control: shown.control } : stage;
  const rates = difference(counts.canary, counts.control, alpha);
  const significant = r.logE >= threshold;
  const status = carrier ? 'regressed' : 'clear';
  const verdictText = carrier
    ? 'canary is worse'
    : significant
      ? `no restart shows both the evidence and the minimum effect ${pp(minEffect)}`
      : 'no significant difference';
  return {
    check: 'comparison',
    signal,
    status,
    evidence: {
      kind: 'rate_comparison',
      method: 'conditional-msprt',
      statistic: r.logE,
      threshold,
      window: windowOf(ledger, shown?.startMs),
      counts,
      rates,
      stageCounts: stage,
      alpha,
      minEffect,
      alwaysValidP: alwaysValidPValue(r),
      restart: shown ? { fromMs: shown.startMs, logTerm: shown.logTerm } : null,
    },
    reason:
      `${LABEL[signal]} canary ${pct(rates.canary)} vs control ${pct(rates.control)} ` +
      `(${pp(rates.difference ?? 0)}; always-valid interval ${pp(rates.differenceLower)}..${pp(rates.differenceUpper)}); ` +
      `e-value ${Math.exp(Math.min(r.logE, 700)).toPrecision(3)} vs ${(1 / alpha).toPrecision(3)}: ${verdictText}`,
  };
}

/** Canary rate above a hard cap (lower confidence bound above it), whatever the control does. */
export function capRate(
  ledger: EvidenceLedger,
  signal: RateSignalName,
  cap: number,
  config: GuardConfig,
): Finding {
  const r = ledger.rates[signal];
  const alpha = alphaFor(config, capCheck(signal));
  if (r.canary.trials < config.minSamples.canary) {
    const required = { canary: config.minSamples.canary, control: 0 };
    return insufficientRate(
      signal,
      'cap',
      { canary: r.canary, control: r.control },
      required,
      windowOf(ledger),
    );
  }
  const cs = bernoulliConfidenceSequence(r.canary, alpha);
  const regressed = cs.lower > cap;
  return {
    check: 'cap',
    signal,
    status: regressed ? 'regressed' : 'clear',
    evidence: {
      kind: 'rate_cap',
      method: 'beta-binomial-cs',
      statistic: cs.lower,
      threshold: cap,
      window: windowOf(ledger),
      counts: { canary: r.canary },
      rates: { canary: rateOf(r.canary), lower: cs.lower, upper: cs.upper },
      alpha,
    },
    reason:
      `${LABEL[signal]} canary ${pct(rateOf(r.canary))} (always-valid lower bound ${pct(cs.lower)}) ` +
      `${regressed ? 'is above' : 'is not shown above'} the hard cap ${pct(cap)}`,
  };
}

/** Judge similarity of canary/shadow pairs below the tenant's minimum. */
export function judgeSimilarity(ledger: EvidenceLedger, config: GuardConfig): Finding {
  const s = ledger.judge;
  const alpha = alphaFor(config, 'judge_similarity');
  const minimum = config.judge.minimum;
  if (s.n < config.judge.minSamples) {
    return {
      check: 'judge',
      signal: 'judge_similarity',
      status: 'insufficient',
      evidence: minSamplesEvidence(
        s.n,
        0,
        { canary: config.judge.minSamples, control: 0 },
        { canary: s.n > 0 ? s.sum / s.n : null, control: null },
        windowOf(ledger),
      ),
      reason: `judge similarity: ${s.n} scored pairs, need ${config.judge.minSamples}`,
    };
  }
  const statistic = logEvidenceMeanBelow(s, minimum);
  const threshold = Math.log(1 / alpha);
  const bounds = boundedMeanConfidenceBounds(s, alpha);
  const regressed = statistic >= threshold;
  return {
    check: 'judge',
    signal: 'judge_similarity',
    status: regressed ? 'regressed' : 'clear',
    evidence: {
      kind: 'bounded_mean',
      method: 'betting-cs',
      statistic,
      threshold,
      window: windowOf(ledger),
      counts: { canary: s },
      rates: bounds,
      minimum,
      alpha,
    },
    reason:
      `judge similarity mean ${bounds.mean?.toFixed(3)} over ${s.n} pairs (always-valid upper bound ` +
      `${bounds.upper.toFixed(3)}) ${regressed ? 'is below' : 'is not shown below'} the minimum ${minimum}`,
  };
}

/** Canary p99 more than (1 + maxP99Increase) × control p99 and at least minIncreaseMs above it. */
export function latencyRatio(
  latency: LatencyWindow | undefined,
  config: GuardConfig,
  fallbackWindow: EvidenceWindow,
  relaxed = false,
): Finding {
  const need = config.latency.minSamples;
  if (!latency || latency.canary.count < need || latency.control.count < need) {
    const window = latency ? { fromMs: latency.fromMs, toMs: latency.toMs } : fallbackWindow;
    return {
      check: 'latency',
      signal: 'latency',
      status: 'insufficient',
      evidence: minSamplesEvidence(
        latency?.canary.count ?? 0,
        latency?.control.count ?? 0,
        { canary: need, control: need },
        { canary: null, control: null },
        window,
      ),
      reason: latency
        ? `latency: fewer than ${need} requests per cohort in the window`
        : 'latency: no quantiles given',
    };
  }
  const { canary, control } = latency;
  const ratio =
    control.p99Ms > 0 ? canary.p99Ms / control.p99Ms : canary.p99Ms > 0 ? Number.POSITIVE_INFINITY : 1;
  // Recovery asks for half the allowed increase: a p99 hovering at the limit must not resume and
  // re-trip every few minutes.
  const allowed = relaxed ? config.latency.maxP99Increase / 2 : config.latency.maxP99Increase;
  const regressed = ratio > 1 + allowed && canary.p99Ms - control.p99Ms >= config.latency.minIncreaseMs;
  return {
    check: 'latency',
    signal: 'latency',
    status: regressed ? 'regressed' : 'clear',
    evidence: {
      kind: 'latency_ratio',
      method: 'p99-ratio',
      statistic: Number.isFinite(ratio) ? ratio : Number.MAX_VALUE,
      threshold: 1 + allowed,
      window: { fromMs: latency.fromMs, toMs: latency.toMs },
      counts: { canary: canary.count, control: control.count },
      rates: {
        canaryP50Ms: canary.p50Ms,
        controlP50Ms: control.p50Ms,
        canaryP99Ms: canary.p99Ms,
        controlP99Ms: control.p99Ms,
      },
    },
    reason: `latency p99 canary ${canary.p99Ms} ms vs control ${control.p99Ms} ms (×${ratio.toFixed(2)}, limit ×${(1 + allowed).toFixed(2)})`,
  };
}

/** Every enabled check, in a fixed order (comparisons, caps, judge, latency). */
export function runChecks(
  ledger: EvidenceLedger,
  latency: LatencyWindow | undefined,
  config: GuardConfig,
): Finding[] {
  const out: Finding[] = [];
  for (const s of RATE_SIGNALS) if (alphaFor(config, s) > 0) out.push(compareRate(ledger, s, config));
  for (const s of RATE_SIGNALS) {
    const cap = config.caps[s];
    if (cap !== null && alphaFor(config, capCheck(s)) > 0) out.push(capRate(ledger, s, cap, config));
  }
  if (alphaFor(config, 'judge_similarity') > 0) out.push(judgeSimilarity(ledger, config));
  out.push(latencyRatio(latency, config, windowOf(ledger)));
  return out;
}
