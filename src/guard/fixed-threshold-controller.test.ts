import { describe, expect, it } from 'vitest';
import {
  ARGO_EXAMPLE,
  canaryWindow,
  describeMeasurement,
  type FixedThresholdConfig,
  type FixedThresholdState,
  FLAGGER_DEFAULTS,
  openFixedThreshold,
  stepFixedThreshold,
} from './fixed-threshold-controller.js';
import { MINUTE, minuteBucket } from './fixtures.js';
import type { BernoulliCounts } from './signals.js';

/** Steps once a minute over per-minute canary counts; returns the minute of rollback or null. */
function run(
  perMinute: readonly BernoulliCounts[],
  config: FixedThresholdConfig,
): { at: number | null; state: FixedThresholdState } {
  const buckets = perMinute.map((c, i) =>
    minuteBucket(i, { toolCalls: c }, { toolCalls: { trials: 100, events: 1 } }),
  );
  let state = openFixedThreshold(0, config);
  for (let m = 1; m <= perMinute.length; m++) {
    const step = stepFixedThreshold(state, m * MINUTE, (from, to) => canaryWindow(buckets, from, to), config);
    state = step.state;
    if (step.decision.verdict === 'rollback') return { at: m, state };
  }
  return { at: null, state };
}

const ok = { trials: 100, events: 0 };
const bad = { trials: 100, events: 5 };

describe('fixed-threshold controller', () => {
  it('fails the analysis after failureLimit + 1 failed measurements in total (Flagger: 5 failed checks)', () => {
    const series = [bad, ok, bad, ok, bad, bad, ok, bad, ok, ok];
    expect(run(series, FLAGGER_DEFAULTS).at).toBe(8);
  });

  it('counts consecutive failures when asked to', () => {
    const config: FixedThresholdConfig = { ...FLAGGER_DEFAULTS, counting: 'consecutive', failureLimit: 2 };
    expect(run([bad, bad, ok, bad, bad, ok, bad, bad, bad, ok], config).at).toBe(9);
  });

  it('treats an empty window as inconclusive, not as a failure', () => {
    const { at, state } = run([{ trials: 0, events: 0 }, { trials: 0, events: 0 }, ok], FLAGGER_DEFAULTS);
    expect(at).toBeNull();
    expect(state).toMatchObject({ measurements: 3, failed: 0 });
  });

  it('measures over its range at its interval (Argo example: 5m / 5m, > 5%, failureLimit 3)', () => {
    // 6% failures throughout: a failed measurement every 5 minutes, the fourth fails the analysis.
    const series = Array.from({ length: 30 }, () => ({ trials: 100, events: 6 }));
    expect(run(series, ARGO_EXAMPLE).at).toBe(20);
  });

  it('rolls back a small tenant on one failure out of a handful of requests', () => {
    // The weakness the sequential guard fixes: 1 failure in 3 requests is a 33% "failure rate".
    const series = [{ trials: 3, events: 1 }, ...Array.from({ length: 9 }, () => ({ trials: 3, events: 0 }))];
    const config: FixedThresholdConfig = { ...FLAGGER_DEFAULTS, windowMs: 5 * MINUTE };
    expect(run(series, config).at).toBe(5);
  });

  it('explains a measurement on demand', () => {
    const step = stepFixedThreshold(
      openFixedThreshold(0, FLAGGER_DEFAULTS),
      MINUTE,
      () => bad,
      FLAGGER_DEFAULTS,
    );
    if (!step.decision.measurement) throw new Error('expected a measurement');
    expect(describeMeasurement(step.decision.measurement, step.state, FLAGGER_DEFAULTS)).toBe(
      'canary failure rate 5.00% over 100 trials vs limit 1.00%: failed; 1 total failed, analysis fails above 4',
    );
  });
});
