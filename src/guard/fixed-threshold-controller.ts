/**
 * The baseline the sequential guard is measured against: fixed-threshold canary analysis as Argo
 * Rollouts (AnalysisTemplate: `interval`, `failureLimit`, a PromQL rate over a range) and Flagger
 * (`analysis.interval`, `threshold` = failed checks before rollback, `thresholdRange`) do it.
 *
 * Every `intervalMs` it takes one measurement: the canary's failure rate over the last `windowMs`
 * (the query's range). A measurement fails when the rate exceeds `maxFailureRate`; fewer than
 * `minTrials` trials in the window give an inconclusive measurement (a 0/0 query result), which
 * counts for nothing. The analysis fails — rollback — once failed measurements exceed
 * `failureLimit`, counted in total (Argo's and Flagger's behaviour) or consecutively.
 *
 * It compares the canary with a constant, not with the control, and a single window's rate is
 * not a test: at a small tenant's volume one failure in a handful of requests is a "failed check".
 */
import type { BernoulliCounts, RollupBucket } from './signals.js';
import { rateCounts } from './signals.js';

export interface FixedThresholdConfig {
  readonly intervalMs: number;
  readonly windowMs: number;
  readonly maxFailureRate: number;
  /** Failed measurements tolerated; one more fails the analysis (Argo `failureLimit`). */
  readonly failureLimit: number;
  readonly counting: 'total' | 'consecutive';
  readonly minTrials: number;
}

/** Flagger's documented defaults: 1m interval, 1m range, success ≥ 99%, `threshold: 5` failed checks. */
export const FLAGGER_DEFAULTS: FixedThresholdConfig = Object.freeze({
  intervalMs: 60_000,
  windowMs: 60_000,
  maxFailureRate: 0.01,
  failureLimit: 4,
  counting: 'total',
  minTrials: 1,
});

/** The Argo Rollouts documentation's success-rate template: 5m interval and range, ≥ 95%, failureLimit 3. */
export const ARGO_EXAMPLE: FixedThresholdConfig = Object.freeze({
  intervalMs: 300_000,
  windowMs: 300_000,
  maxFailureRate: 0.05,
  failureLimit: 3,
  counting: 'total',
  minTrials: 1,
});

export type MeasurementPhase = 'successful' | 'failed' | 'inconclusive';

export interface FixedThresholdState {
  readonly nextMeasurementAtMs: number;
  readonly measurements: number;
  readonly failed: number;
  readonly consecutiveFailed: number;
  readonly phase: 'running' | 'failed';
}

export interface Measurement {
  readonly atMs: number;
  readonly phase: MeasurementPhase;
  readonly counts: BernoulliCounts;
  readonly rate: number | null;
}

export interface FixedThresholdDecision {
  readonly verdict: 'continue' | 'rollback';
  /** The measurement taken at this step, if one was due. */
  readonly measurement: Measurement | null;
}

export function openFixedThreshold(startMs: number, config: FixedThresholdConfig): FixedThresholdState {
  return {
    nextMeasurementAtMs: startMs + config.intervalMs,
    measurements: 0,
    failed: 0,
    consecutiveFailed: 0,
    phase: 'running',
  };
}

/**
 * Advances to `nowMs`. `window` gives the canary counts over [to − windowMs, to) for a measurement
 * time `to`; the controller asks only when a measurement is due (at most one per step).
 */
export function stepFixedThreshold(
  state: FixedThresholdState,
  nowMs: number,
  window: (fromMs: number, toMs: number) => BernoulliCounts,
  config: FixedThresholdConfig,
): { state: FixedThresholdState; decision: FixedThresholdDecision } {
  if (state.phase === 'failed') return { state, decision: { verdict: 'rollback', measurement: null } };
  if (nowMs < state.nextMeasurementAtMs)
    return { state, decision: { verdict: 'continue', measurement: null } };
  const at = state.nextMeasurementAtMs;
  const counts = window(at - config.windowMs, at);
  const rate = counts.trials > 0 ? counts.events / counts.trials : null;
  const phase: MeasurementPhase =
    counts.trials < config.minTrials || rate === null
      ? 'inconclusive'
      : rate > config.maxFailureRate
        ? 'failed'
        : 'successful';
  const failed = state.failed + (phase === 'failed' ? 1 : 0);
  const consecutiveFailed =
    phase === 'failed' ? state.consecutiveFailed + 1 : phase === 'successful' ? 0 : state.consecutiveFailed;
  const count = config.counting === 'total' ? failed : consecutiveFailed;
  const analysisFailed = count > config.failureLimit;
  const next: FixedThresholdState = {
    nextMeasurementAtMs: at + config.intervalMs,
    measurements: state.measurements + 1,
    failed,
    consecutiveFailed,
    phase: analysisFailed ? 'failed' : 'running',
  };
  return {
    state: next,
    decision: {
      verdict: analysisFailed ? 'rollback' : 'continue',
      measurement: { atMs: at, phase, counts, rate },
    },
  };
}

/** A person-readable account of a measurement (built on demand: the controller steps often). */
export function describeMeasurement(
  m: Measurement,
  state: FixedThresholdState,
  config: FixedThresholdConfig,
): string {
  const rate = m.rate === null ? 'n/a' : `${(100 * m.rate).toFixed(2)}%`;
  const count = config.counting === 'total' ? state.failed : state.consecutiveFailed;
  return (
    `canary failure rate ${rate} over ${m.counts.trials} trials vs limit ${(100 * config.maxFailureRate).toFixed(2)}%: ` +
    `${m.phase}; ${count} ${config.counting} failed, analysis fails above ${config.failureLimit}`
  );
}

/** Canary tool-call counts over [fromMs, toMs) from rollups (whole periods that start inside). */
export function canaryWindow(
  buckets: readonly RollupBucket[],
  fromMs: number,
  toMs: number,
): BernoulliCounts {
  let trials = 0;
  let events = 0;
  for (const b of buckets) {
    if (b.startMs < fromMs || b.startMs >= toMs) continue;
    const c = rateCounts(b.canary, 'tool_call_failure');
    trials += c.trials;
    events += c.events;
  }
  return { trials, events };
}
