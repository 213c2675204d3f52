/**
 * Hand-built rollups for the guard's tests (production code never imports this file): one
 * minute's counts per cohort, with everything not mentioned empty.
 */
import type { BernoulliCounts, CohortCounts, MomentSums, RollupBucket } from './signals.js';
import { emptyCohort, ZERO_MOMENTS } from './signals.js';

export const MINUTE = 60_000;

export interface CohortSpec {
  toolCalls?: BernoulliCounts;
  coercions?: BernoulliCounts;
  requests?: BernoulliCounts;
  tasks?: BernoulliCounts;
  downstream?: BernoulliCounts;
  kinds?: Record<string, number>;
}

function cohort(spec: CohortSpec, lastEventAtMs: number): CohortCounts {
  const base = emptyCohort();
  const hasTrials = [spec.toolCalls, spec.coercions, spec.requests, spec.tasks, spec.downstream].some(
    (c) => c !== undefined && c.trials > 0,
  );
  return {
    ...base,
    toolCalls: spec.toolCalls ?? base.toolCalls,
    coercions: spec.coercions ?? base.coercions,
    requests: spec.requests ?? base.requests,
    tasks: spec.tasks ?? base.tasks,
    downstream: spec.downstream ?? base.downstream,
    toolFailureKinds: spec.kinds ?? {},
    lastEventAtMs: hasTrials ? lastEventAtMs : null,
  };
}

/** The rollup of minute `index` (counted from `originMs`). */
export function minuteBucket(
  index: number,
  canary: CohortSpec,
  control: CohortSpec,
  judge: MomentSums = ZERO_MOMENTS,
  originMs = 0,
): RollupBucket {
  const startMs = originMs + index * MINUTE;
  return {
    startMs,
    endMs: startMs + MINUTE,
    canary: cohort(canary, startMs + MINUTE - 1),
    control: cohort(control, startMs + MINUTE - 1),
    judge,
  };
}

/** n scores all equal to `score` as moment sums. */
export function scores(n: number, score: number): MomentSums {
  return { n, sum: n * score, sumSq: n * score * score };
}
