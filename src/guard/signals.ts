/**
 * What the rollback controller measures, per tenant and per cohort (canary = sessions on the
 * candidate version, control = sessions of the same tenant on stable, same time window).
 *
 * Every input is a mergeable count (successes/trials, sums, sums of squares), so the telemetry
 * layer can fill them from per-minute rollups and any window is the sum of its minutes. Latency is
 * the exception: quantiles do not merge, so the telemetry layer hands over precomputed p50/p99 for
 * the evaluation window (from a sketch).
 */

/** Bad events out of trials: failed tool calls out of checked tool calls, and so on. */
export interface BernoulliCounts {
  readonly trials: number;
  readonly events: number;
}

/** Count, sum and sum of squares of bounded scores in [0, 1] (judge similarity). */
export interface MomentSums {
  readonly n: number;
  readonly sum: number;
  readonly sumSq: number;
}

/**
 * One cohort's counts over one rollup period. Every rate is "bad events out of trials", so the
 * statistics treat them alike; the reason text turns task failures back into completion.
 */
export interface CohortCounts {
  /** events = requests that failed (5xx, upstream error) out of all requests. */
  readonly requests: BernoulliCounts;
  /** events = tool calls that broke the tenant's contract out of tool calls checked. */
  readonly toolCalls: BernoulliCounts;
  /** How the failed tool calls broke the contract (`type`, `required`, `unknown_tool`, ...). */
  readonly toolFailureKinds: Readonly<Record<string, number>>;
  /** events = tool calls the gateway coerced into shape out of tool calls checked. */
  readonly coercions: BernoulliCounts;
  /** events = tasks reported failed on the feedback endpoint out of tasks reported. */
  readonly tasks: BernoulliCounts;
  /** events = downstream errors reported out of feedback reports. */
  readonly downstream: BernoulliCounts;
  /** When the newest event of this period happened (epoch ms); null when the period was empty. */
  readonly lastEventAtMs: number | null;
}

/** One closed rollup period (normally a minute) of one tenant's canary stage. */
export interface RollupBucket {
  readonly startMs: number;
  readonly endMs: number;
  readonly canary: CohortCounts;
  readonly control: CohortCounts;
  /** Judge similarity of sampled canary/shadow pairs (canary output vs stable output). */
  readonly judge: MomentSums;
}

/** Precomputed latency quantiles of one cohort over the evaluation window. */
export interface LatencyQuantiles {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface LatencyWindow {
  readonly fromMs: number;
  readonly toMs: number;
  readonly canary: LatencyQuantiles;
  readonly control: LatencyQuantiles;
}

/** Signals compared between cohorts as rates of bad events. */
export type RateSignalName =
  | 'tool_call_failure'
  | 'coercion'
  | 'request_error'
  | 'task_failure'
  | 'downstream_error';

export type SignalName = RateSignalName | 'judge_similarity' | 'latency';

export const RATE_SIGNALS: readonly RateSignalName[] = [
  'tool_call_failure',
  'coercion',
  'request_error',
  'task_failure',
  'downstream_error',
];

/** Where each rate signal lives in a cohort's counts. */
export function rateCounts(cohort: CohortCounts, signal: RateSignalName): BernoulliCounts {
  switch (signal) {
    case 'tool_call_failure':
      return cohort.toolCalls;
    case 'coercion':
      return cohort.coercions;
    case 'request_error':
      return cohort.requests;
    case 'task_failure':
      return cohort.tasks;
    case 'downstream_error':
      return cohort.downstream;
  }
}

export const ZERO_COUNTS: BernoulliCounts = Object.freeze({ trials: 0, events: 0 });
export const ZERO_MOMENTS: MomentSums = Object.freeze({ n: 0, sum: 0, sumSq: 0 });

export function addCounts(a: BernoulliCounts, b: BernoulliCounts): BernoulliCounts {
  return { trials: a.trials + b.trials, events: a.events + b.events };
}

/** a − b, for "what arrived since a snapshot" (counts only ever grow, so this is never negative). */
export function subtractCounts(a: BernoulliCounts, b: BernoulliCounts): BernoulliCounts {
  return { trials: Math.max(0, a.trials - b.trials), events: Math.max(0, a.events - b.events) };
}

export function addMoments(a: MomentSums, b: MomentSums): MomentSums {
  return { n: a.n + b.n, sum: a.sum + b.sum, sumSq: a.sumSq + b.sumSq };
}

export function subtractMoments(a: MomentSums, b: MomentSums): MomentSums {
  return {
    n: Math.max(0, a.n - b.n),
    sum: Math.max(0, a.sum - b.sum),
    sumSq: Math.max(0, a.sumSq - b.sumSq),
  };
}

/** events / trials, or null when there were no trials (no rate, rather than a made-up 0). */
export function rateOf(c: BernoulliCounts): number | null {
  return c.trials > 0 ? c.events / c.trials : null;
}

export function emptyCohort(): CohortCounts {
  return {
    requests: ZERO_COUNTS,
    toolCalls: ZERO_COUNTS,
    toolFailureKinds: {},
    coercions: ZERO_COUNTS,
    tasks: ZERO_COUNTS,
    downstream: ZERO_COUNTS,
    lastEventAtMs: null,
  };
}

function mergeKinds(
  a: Readonly<Record<string, number>>,
  b: Readonly<Record<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = { ...a };
  for (const [kind, n] of Object.entries(b)) out[kind] = (out[kind] ?? 0) + n;
  return out;
}

function laterOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

/** Two periods' counts of the same cohort as one (rollups are mergeable by construction). */
export function mergeCohorts(a: CohortCounts, b: CohortCounts): CohortCounts {
  return {
    requests: addCounts(a.requests, b.requests),
    toolCalls: addCounts(a.toolCalls, b.toolCalls),
    toolFailureKinds: mergeKinds(a.toolFailureKinds, b.toolFailureKinds),
    coercions: addCounts(a.coercions, b.coercions),
    tasks: addCounts(a.tasks, b.tasks),
    downstream: addCounts(a.downstream, b.downstream),
    lastEventAtMs: laterOf(a.lastEventAtMs, b.lastEventAtMs),
  };
}
