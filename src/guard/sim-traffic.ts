/**
 * Simulated per-minute rollups of one tenant's canary stage, for the guard's tests and the
 * detection benchmark (never imported by the decision code). Requests arrive as a Poisson process
 * whose rate follows a day/night cycle; each request joins the canary with the stage's share and
 * its tool call fails with the cohort's failure rate at that moment (a function of time, so a
 * regression can start mid-soak and an incident can hit both cohorts).
 */
import type { Prng } from './prng.js';
import { type CohortCounts, emptyCohort, type RollupBucket, ZERO_MOMENTS } from './signals.js';

export interface TrafficModel {
  /** Mean requests per second over a day. */
  readonly requestsPerSecond: number;
  /** Fraction of requests on the candidate (0.05 for a 5% canary). */
  readonly canaryShare: number;
  /** Day/night swing of the request rate: 0.5 means ±50% around the mean. */
  readonly diurnalAmplitude: number;
  /** Tool-call failure rate of each cohort at a time (ms since the stage start). */
  readonly canaryFailureRate: (elapsedMs: number) => number;
  readonly controlFailureRate: (elapsedMs: number) => number;
}

const DAY_MS = 86_400_000;

function cohort(trials: number, failures: number, lastEventAtMs: number | null): CohortCounts {
  const counts = { trials, events: failures };
  return {
    ...emptyCohort(),
    requests: { trials, events: 0 },
    toolCalls: counts,
    toolFailureKinds: failures > 0 ? { type: failures } : {},
    lastEventAtMs: trials > 0 ? lastEventAtMs : null,
  };
}

/** One period [startMs, startMs + periodMs) of the stage that began at `stageStartMs`. */
export function simulatePeriod(
  rng: Prng,
  model: TrafficModel,
  stageStartMs: number,
  startMs: number,
  periodMs: number,
): RollupBucket {
  const elapsed = startMs - stageStartMs;
  const cycle = 1 + model.diurnalAmplitude * Math.sin((2 * Math.PI * elapsed) / DAY_MS);
  const requests = rng.poisson(model.requestsPerSecond * cycle * (periodMs / 1000));
  const canary = rng.binomial(requests, model.canaryShare);
  const control = requests - canary;
  const canaryFailures = rng.binomial(canary, model.canaryFailureRate(elapsed));
  const controlFailures = rng.binomial(control, model.controlFailureRate(elapsed));
  // The newest event's time within the period: close enough to its end for staleness purposes.
  const last = startMs + Math.floor(periodMs * (1 - rng.next() / Math.max(1, requests)));
  return {
    startMs,
    endMs: startMs + periodMs,
    canary: cohort(canary, canaryFailures, last),
    control: cohort(control, controlFailures, last),
    judge: ZERO_MOMENTS,
  };
}

/** A constant failure rate, and one that steps from `before` to `after` at `atMs`. */
export const constantRate = (rate: number) => () => rate;
export const stepRate = (before: number, after: number, atMs: number) => (elapsedMs: number) =>
  elapsedMs >= atMs ? after : before;
