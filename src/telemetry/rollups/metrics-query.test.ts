import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { fleetSummary } from './metrics-query.js';
import { RollupAggregator } from './rollup-aggregator.js';
import { MemoryRollupStore } from './test-support/memory-rollup-store.js';
import { event } from './test-support/rollup-fixtures.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0);
const MIN = 60_000;

describe('fleetSummary', () => {
  it('compares canary with control per tenant and channel over the last whole minutes', async () => {
    const clock = new ManualClock(T0 + 10 * MIN + 30_000);
    const store = new MemoryRollupStore();
    const agg = new RollupAggregator(store, clock, { writerId: 'w', flushIntervalMs: 3_600_000 });
    const canary = { versionId: 'v2', cohort: 'canary' as const };
    agg.observe(
      [
        event({ atMs: T0 + 9 * MIN, toolCallsChecked: 4 }),
        event({ atMs: T0 + 9 * MIN, status: 500, errorType: 'upstream_500' }),
        event({
          ...canary,
          atMs: T0 + 8 * MIN,
          toolCallsChecked: 2,
          toolCallsInvalid: 1,
          invalidKinds: ['type'],
        }),
        event({ atMs: T0 + 2 * MIN }), // older than the last five minutes
        event({ atMs: T0 + 10 * MIN }), // the current, open minute
        event({ tenantId: 'beta', atMs: T0 + 9 * MIN }),
      ],
      true,
    );
    agg.record({
      atMs: T0 + 9 * MIN,
      tenantId: 'alpha',
      channel: 'gpt-x',
      candidateVersionId: 'v2',
      stableVersionId: 'v1',
      source: 'shadow',
      requestId: 'r',
      score: 0.75,
    });
    await agg.close();
    const summary = await fleetSummary(store, { nowMs: clock.now(), minutes: 5 });
    expect(summary.map((s) => [s.tenantId, s.channel])).toEqual([
      ['alpha', 'gpt-x'],
      ['beta', 'gpt-x'],
    ]);
    expect(summary[0]).toMatchObject({
      canary: { versionIds: ['v2'], requests: 1, toolCallInvalidRate: 0.5, errorRate: 0 },
      control: { versionIds: ['v1'], requests: 2, toolCallInvalidRate: 0, errorRate: 0.5 },
      judge: { n: 1, mean: 0.75 },
    });
    expect(summary[1]?.canary).toMatchObject({
      requests: 0,
      errorRate: null,
      latencyMs: { count: 0, p99: null },
    });
  });
});
