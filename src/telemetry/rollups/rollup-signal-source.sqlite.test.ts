import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import type { SqlDatabase } from '../../storage/sql-database.js';
import { memorySqlite } from '../../test-support/registry-fixtures.js';
import { SKETCH_RELATIVE_ACCURACY } from './latency-sketch.js';
import { RollupAggregator } from './rollup-aggregator.js';
import { RollupSignalSource } from './rollup-signal-source.js';
import { SqlRollupStore } from './sql-rollup-store.js';
import { MemoryRollupStore } from './test-support/memory-rollup-store.js';
import { event } from './test-support/rollup-fixtures.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0);
const MIN = 60_000;
const Q = {
  tenantId: 'alpha',
  channel: 'gpt-x',
  candidateVersionId: 'v2',
  stableVersionId: 'v1',
  fromMs: T0,
  toMs: T0 + 10 * MIN,
};
const OPTS = { flushIntervalMs: 3_600_000, graceMs: 5_000, maxOpenRows: 10_000, maxPendingRows: 10_000 };

describe('RollupSignalSource over SQLite rollups', () => {
  let db: SqlDatabase;
  let clock: ManualClock;
  let store: SqlRollupStore;
  let agg: RollupAggregator;
  beforeEach(async () => {
    db = await memorySqlite();
    clock = new ManualClock(T0);
    store = new SqlRollupStore(db);
    agg = new RollupAggregator(store, clock, { ...OPTS, writerId: 'gw-1' });
  });
  afterEach(async () => {
    await agg.close();
    await db.close();
  });

  it('returns settled minutes of canary (sessions on the candidate, fallbacks included) against control (stable, stable cohort)', async () => {
    const canary = { versionId: 'v2', cohort: 'canary' as const };
    agg.observe(
      [
        event({
          ...canary,
          atMs: T0 + 1000,
          status: 500,
          errorType: 'upstream_500',
          toolCallsChecked: 2,
          toolCallsInvalid: 1,
          invalidKinds: ['type'],
        }),
        event({ ...canary, atMs: T0 + 2000, toolCallsChecked: 2, toolCallsCoerced: 1 }),
        event({ atMs: T0 + 3000, toolCallsChecked: 4 }),
        event({ atMs: T0 + 2 * MIN }),
        // A canary session's invalid call that stable answered instead (fallback): still canary.
        event({
          versionId: 'v1',
          cohort: 'canary',
          atMs: T0 + 1000,
          fallback: 'tool_call_invalid',
          toolCallsChecked: 1,
          toolCallsInvalid: 1,
          invalidKinds: ['type'],
        }),
        // Not this comparison: another channel, another tenant.
        event({ ...canary, channel: 'other', atMs: T0 + 1000 }),
        event({ ...canary, tenantId: 'beta', atMs: T0 + 1000 }),
      ],
      true,
    );
    agg.recordFeedback({
      atMs: T0 + 30_000,
      tenantId: 'alpha',
      channel: 'gpt-x',
      ...canary,
      outcome: 'failure',
      downstreamErrors: 2,
    });
    const judge = {
      tenantId: 'alpha',
      channel: 'gpt-x',
      candidateVersionId: 'v2',
      stableVersionId: 'v1',
      requestId: 'r',
    };
    agg.record({ ...judge, atMs: T0 + 40_000, source: 'shadow', score: 0.6 });
    agg.record({ ...judge, atMs: T0 + 41_000, source: 'canary', score: 0.8 });

    clock.set(T0 + 3 * MIN + 5_000);
    await agg.flush();
    const source = new RollupSignalSource(store, clock);
    const buckets = await source.buckets(Q);
    // Settled through T0+3m: the minutes T0, T0+1m (empty) and T0+2m; later ones are not yet.
    expect(buckets.map((b) => b.startMs - T0)).toEqual([0, MIN, 2 * MIN]);
    const [first, empty, third] = buckets;
    expect(first?.canary).toEqual({
      requests: { trials: 3, events: 1 },
      toolCalls: { trials: 5, events: 2 },
      toolFailureKinds: { type: 2 },
      coercions: { trials: 5, events: 1 },
      tasks: { trials: 1, events: 1 },
      downstream: { trials: 1, events: 1 },
      lastEventAtMs: T0 + 30_000,
    });
    expect(first?.control).toMatchObject({
      requests: { trials: 1, events: 0 },
      toolCalls: { trials: 4, events: 0 },
    });
    expect(first?.judge.n).toBe(2);
    expect(first?.judge.sum).toBeCloseTo(1.4, 12);
    expect(first?.judge.sumSq).toBeCloseTo(1.0, 12);
    expect(empty?.canary.requests).toEqual({ trials: 0, events: 0 });
    expect(empty?.canary.lastEventAtMs).toBeNull();
    expect(third?.control.requests).toEqual({ trials: 1, events: 0 });
    expect(source.status(clock.now())).toEqual({ kind: 'available' });
  });

  it('waits for every live writer before a minute is settled, and ignores writers that are gone', async () => {
    const other = new RollupAggregator(store, clock, { ...OPTS, writerId: 'gw-2' });
    try {
      agg.observe([event({ atMs: T0 + 1000 })], true);
      other.observe([event({ atMs: T0 + 2000 })], true);
      clock.set(T0 + MIN + 5_000);
      await agg.flush();
      const source = new RollupSignalSource(store, clock, { writerTimeoutMs: 2 * MIN });
      clock.set(T0 + 2 * MIN + 5_000);
      await other.flush(); // gw-2 writes T0 and T0+1m; gw-1 has only closed T0
      expect((await source.buckets(Q)).map((b) => [b.startMs - T0, b.control.requests.trials])).toEqual([
        [0, 2],
      ]);
      clock.set(T0 + 3 * MIN + 6_000); // gw-1's heartbeat is now older than the writer timeout
      await other.flush();
      expect((await source.buckets(Q)).map((b) => b.startMs - T0)).toEqual([0, MIN, 2 * MIN]);
    } finally {
      await other.close();
    }
  });

  it('after a gap in its reads (the database was away), waits for a writer alive before it, for one timeout', async () => {
    const other = new RollupAggregator(store, clock, { ...OPTS, writerId: 'gw-2' });
    const minutes = async (source: RollupSignalSource) =>
      (await source.buckets(Q)).map((b) => [b.startMs - T0, b.control.requests.trials]);
    try {
      const source = new RollupSignalSource(store, clock, { writerTimeoutMs: 2 * MIN });
      agg.observe([event({ atMs: T0 + 1000 })], true);
      other.observe([event({ atMs: T0 + 2000 })], true);
      clock.set(T0 + MIN + 5_000);
      await agg.flush();
      await other.flush();
      expect(await minutes(source)).toEqual([[0, 2]]);
      // The database is away for five minutes; both gateways serve and hold their rollups.
      agg.observe([event({ atMs: T0 + 2 * MIN })], true);
      other.observe([event({ atMs: T0 + 2 * MIN + 1000 })], true);
      clock.set(T0 + 6 * MIN + 5_000);
      await agg.flush(); // gw-1 is back first; gw-2 still holds minute T0+2m
      expect(await minutes(source)).toEqual([[0, 2]]);
      await other.flush();
      expect(await minutes(source)).toEqual([
        [0, 2],
        [MIN, 0],
        [2 * MIN, 2],
        [3 * MIN, 0],
        [4 * MIN, 0],
        [5 * MIN, 0],
      ]);
    } finally {
      await other.close();
    }
  });

  it('waits the same way on its first read long after it was made (a controller taking the lead)', async () => {
    const other = new RollupAggregator(store, clock, { ...OPTS, writerId: 'gw-2' });
    try {
      const source = new RollupSignalSource(store, clock, { writerTimeoutMs: 2 * MIN });
      agg.observe([event({ atMs: T0 + 1000 })], true);
      other.observe([event({ atMs: T0 + 2000 })], true);
      clock.set(T0 + MIN + 5_000);
      await agg.flush();
      await other.flush();
      other.observe([event({ atMs: T0 + MIN + 10_000 })], true);
      clock.set(T0 + 6 * MIN + 5_000);
      await agg.flush(); // gw-2 still holds minute T0+1m
      expect((await source.buckets(Q)).map((b) => b.startMs - T0)).toEqual([0]);
    } finally {
      await other.close();
    }
  });

  it('after a gap, stops waiting for a writer that does not come back within the timeout', async () => {
    const gone = new RollupAggregator(store, clock, { ...OPTS, writerId: 'gw-2' });
    const source = new RollupSignalSource(store, clock, { writerTimeoutMs: 2 * MIN });
    clock.set(T0 + MIN + 5_000);
    await agg.flush();
    await gone.flush();
    await gone.close(); // writes its heartbeat once more, then never again
    await source.refresh();
    clock.set(T0 + 6 * MIN + 5_000);
    await agg.flush();
    await source.refresh();
    expect((await source.buckets(Q)).map((b) => b.startMs - T0)).toEqual([0]);
    clock.set(T0 + 8 * MIN + 6_000);
    await agg.flush();
    expect((await source.buckets(Q)).length).toBe(8);
  });

  it('gives latency quantiles of each cohort from the merged sketches', async () => {
    const canaryLatencies = Array.from({ length: 400 }, (_, i) => 100 + i * 5);
    agg.observe(
      canaryLatencies.map((latencyMs, i) =>
        event({ versionId: 'v2', cohort: 'canary', atMs: T0 + (i % 3) * MIN, latencyMs }),
      ),
      true,
    );
    agg.observe([event({ atMs: T0, latencyMs: 50 })], true);
    clock.set(T0 + 5 * MIN);
    await agg.flush();
    const source = new RollupSignalSource(store, clock);
    const w = await source.latency(Q);
    const sorted = [...canaryLatencies].sort((a, b) => a - b);
    const exactP99 = sorted[Math.floor(0.99 * (sorted.length - 1))] as number;
    expect(w?.canary.count).toBe(400);
    expect(Math.abs((w?.canary.p99Ms ?? 0) - exactP99) / exactP99).toBeLessThanOrEqual(
      SKETCH_RELATIVE_ACCURACY + 1e-9,
    );
    expect(w?.control.count).toBe(1);
    expect(Math.abs((w?.control.p50Ms ?? 0) - 50) / 50).toBeLessThanOrEqual(SKETCH_RELATIVE_ACCURACY + 1e-9);
    expect(await source.latency({ ...Q, tenantId: 'nobody' })).toBeNull();
  });

  it('reports stale rollups when no live writer has closed a recent minute', async () => {
    clock.set(T0 + MIN + 5_000);
    await agg.flush();
    const source = new RollupSignalSource(store, clock, { writerTimeoutMs: 2 * MIN, staleAfterMs: 3 * MIN });
    expect(source.status(clock.now())).toMatchObject({
      kind: 'unavailable',
      detail: expect.stringMatching(/no live/),
    });
    await source.refresh();
    expect(source.status(clock.now())).toEqual({ kind: 'available' });
    clock.set(T0 + 10 * MIN);
    await source.refresh(); // the only writer stopped flushing
    expect(source.status(clock.now())).toMatchObject({
      kind: 'unavailable',
      detail: expect.stringMatching(/no live/),
    });
  });
});

describe('RollupSignalSource when the database fails', () => {
  it('rejects the read and reports unavailable since the first failure, until a read succeeds', async () => {
    const clock = new ManualClock(T0);
    const store = new MemoryRollupStore();
    await store.append({ writerId: 'w', flushId: 1, rows: [], closedThroughMs: T0, atMs: T0 });
    const source = new RollupSignalSource(store, clock);
    store.failWith = new Error('connection refused');
    await expect(source.buckets(Q)).rejects.toThrow('connection refused');
    clock.advance(10_000);
    await expect(source.latency(Q)).rejects.toThrow('connection refused');
    expect(source.status(clock.now())).toEqual({
      kind: 'unavailable',
      sinceMs: T0,
      detail: 'rollups could not be read: connection refused',
    });
    store.failWith = null;
    await source.buckets(Q);
    expect(source.status(clock.now())).toEqual({ kind: 'available' });
  });
});
