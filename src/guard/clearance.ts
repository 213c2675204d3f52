/**
 * When may a held (paused or escalated) rollout resume? Only when the signal that tripped it has
 * cleared *with margin*, judged on data that arrived since the hold — the evidence from before
 * the hold is what tripped it and would keep it tripped forever.
 *
 * "With margin" means the always-valid bound is on the safe side, not merely that the test
 * stopped firing: for a comparison, the upper bound on (canary − control) is below the minimum
 * effect; for a cap, the upper bound on the canary rate is below the cap; for the judge, the lower
 * bound on the mean is at or above the minimum; for latency, the p99 ratio is within half the
 * allowed increase. A signal sitting on the boundary therefore stays held instead of flapping.
 * The price: a small tenant needs many post-hold trials to clear, so it resumes slowly (or by a
 * person's decision), which is the safe direction.
 */
import { boundedMeanConfidenceBounds } from './bounded-mean-cs.js';
import { latencyRatio, minSamplesEvidence, pct, signalLabel } from './checks.js';
import { bernoulliConfidenceSequence, rateDifferenceConfidenceSequence } from './confidence-sequence.js';
import { alphaFor, capCheck, type GuardConfig } from './config.js';
import type { Evidence, EvidenceWindow, Trigger } from './evidence.js';
import type { EvidenceLedger } from './ledger.js';
import {
  type BernoulliCounts,
  type LatencyWindow,
  type MomentSums,
  type RateSignalName,
  rateOf,
  subtractCounts,
  subtractMoments,
} from './signals.js';

/** Cumulative counts at the moment of a hold, so "since the hold" is a subtraction. */
export interface LedgerSnapshot {
  readonly atMs: number;
  readonly rates: Readonly<
    Record<RateSignalName, { readonly canary: BernoulliCounts; readonly control: BernoulliCounts }>
  >;
  readonly judge: MomentSums;
}

export function snapshotLedger(ledger: EvidenceLedger): LedgerSnapshot {
  const pick = (s: RateSignalName) => ({ canary: ledger.rates[s].canary, control: ledger.rates[s].control });
  return {
    atMs: ledger.foldedThroughMs,
    rates: {
      tool_call_failure: pick('tool_call_failure'),
      coercion: pick('coercion'),
      request_error: pick('request_error'),
      task_failure: pick('task_failure'),
      downstream_error: pick('downstream_error'),
    },
    judge: ledger.judge,
  };
}

export type ClearanceStatus = 'cleared' | 'not_cleared' | 'insufficient';

export interface Clearance {
  readonly status: ClearanceStatus;
  readonly evidence: Evidence;
  readonly reason: string;
}

function isRateSignal(s: Trigger['signal']): s is RateSignalName {
  return s !== 'judge_similarity' && s !== 'latency';
}

export function clearance(
  trigger: Trigger,
  ledger: EvidenceLedger,
  snapshot: LedgerSnapshot,
  latency: LatencyWindow | undefined,
  config: GuardConfig,
): Clearance {
  const window: EvidenceWindow = { fromMs: snapshot.atMs, toMs: ledger.foldedThroughMs };
  if (trigger.check === 'latency') {
    const f = latencyRatio(latency, config, window, true);
    const status =
      f.status === 'insufficient' ? 'insufficient' : f.status === 'clear' ? 'cleared' : 'not_cleared';
    return { status, evidence: f.evidence, reason: f.reason };
  }
  if (!isRateSignal(trigger.signal)) {
    return judgeClearance(subtractMoments(ledger.judge, snapshot.judge), window, config);
  }
  const signal = trigger.signal;
  const canary = subtractCounts(ledger.rates[signal].canary, snapshot.rates[signal].canary);
  const control = subtractCounts(ledger.rates[signal].control, snapshot.rates[signal].control);
  const cap = config.caps[signal];
  const isCap = trigger.check === 'cap' && cap !== null;
  const required = { canary: config.minSamples.canary, control: isCap ? 0 : config.minSamples.control };
  if (canary.trials < required.canary || control.trials < required.control) {
    return {
      status: 'insufficient',
      evidence: minSamplesEvidence(
        canary.trials,
        control.trials,
        required,
        { canary: rateOf(canary), control: rateOf(control) },
        window,
      ),
      reason: `${signalLabel(signal)} since the hold: ${canary.trials} canary trials, need ${required.canary} to judge recovery`,
    };
  }
  const alpha = alphaFor(config, isCap ? capCheck(signal) : signal);
  const diff = rateDifferenceConfidenceSequence(canary, control, alpha);
  const canaryCs = bernoulliConfidenceSequence(canary, alpha);
  const statistic = isCap ? canaryCs.upper : diff.upper;
  const threshold = isCap ? (cap ?? 0) : config.minEffect[signal];
  const cleared = statistic < threshold;
  const c = rateOf(canary);
  const s = rateOf(control);
  return {
    status: cleared ? 'cleared' : 'not_cleared',
    evidence: {
      kind: 'rate_clearance',
      method: 'beta-binomial-cs',
      statistic,
      threshold,
      window,
      counts: { canary, control },
      rates: {
        canary: c,
        control: s,
        difference: c === null || s === null ? null : c - s,
        differenceLower: diff.lower,
        differenceUpper: diff.upper,
      },
      alpha,
    },
    reason:
      `${signalLabel(signal)} since the hold: canary ${pct(c)} vs control ${pct(s)}; ` +
      `${isCap ? 'canary upper bound' : 'upper bound on the difference'} ${pct(statistic)} ` +
      `${cleared ? 'is below' : 'is not yet below'} ${pct(threshold)}`,
  };
}

function judgeClearance(s: MomentSums, window: EvidenceWindow, config: GuardConfig): Clearance {
  const need = config.judge.minSamples;
  if (s.n < need) {
    return {
      status: 'insufficient',
      evidence: minSamplesEvidence(
        s.n,
        0,
        { canary: need, control: 0 },
        { canary: null, control: null },
        window,
      ),
      reason: `judge similarity since the hold: ${s.n} scored pairs, need ${need} to judge recovery`,
    };
  }
  const alpha = alphaFor(config, 'judge_similarity');
  const bounds = boundedMeanConfidenceBounds(s, alpha);
  const cleared = bounds.lower >= config.judge.minimum;
  return {
    status: cleared ? 'cleared' : 'not_cleared',
    evidence: {
      kind: 'bounded_mean',
      method: 'betting-cs',
      statistic: bounds.lower,
      threshold: config.judge.minimum,
      window,
      counts: { canary: s },
      rates: bounds,
      minimum: config.judge.minimum,
      alpha,
    },
    reason: `judge similarity since the hold: lower bound ${bounds.lower.toFixed(3)} ${cleared ? 'is at or above' : 'is not yet above'} the minimum ${config.judge.minimum}`,
  };
}
