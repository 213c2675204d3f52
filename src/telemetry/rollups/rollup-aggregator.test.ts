import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import type { TelemetryEvent } from '../telemetry-event.js';
import { decodeSketch, encodeSketch, newSketch, SKETCH_RELATIVE_ACCURACY } from './latency-sketch.js';
import { metricsSeries } from './metrics-query.js';
import { isFailedRequest, isMaskedCandidateFailure, RollupAggregator } from './rollup-aggregator.js';
import { MemoryRollupStore } from './test-support/memory-rollup-store.js';
import { event } from './test-support/rollup-fixtures.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0);
const MIN = 60_000;
const OPTS = { flushIntervalMs: 3_600_000, graceMs: 5_000, maxOpenRows: 1000, maxPendingRows: 1000 };

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Log-normal latencies around 300 ms with a long tail, like an LLM API's. */
function latencies(n: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    return Math.exp(Math.log(300) + 0.8 * z);
  });
}

const exactQuantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(q * (s.length - 1))] as number;
};

const open: RollupAggregator[] = [];
function aggregator(
  store: MemoryRollupStore,
  clock: ManualClock,
  over: Partial<typeof OPTS> & { writerId?: string } = {},
) {
  const a = new RollupAggregator(store, clock, { ...OPTS, writerId: 'w1', ...over });
  open.push(a);
  return a;
}
afterEach(async () => {
  for (const a of open.splice(0)) await a.close().catch(() => {});
});

describe('latency sketch encoding', () => {
  it('round-trips through text with the same quantiles and count', () => {
    const s = newSketch();
    const xs = [0, ...latencies(2000, 1)];
    for (const x of xs) s.accept(x);
    const back = decodeSketch(encodeSketch(s));
    expect(back.count).toBe(s.count);
    for (const q of [0.01, 0.5, 0.9, 0.99, 0.999])
      expect(back.getValueAtQuantile(q)).toBe(s.getValueAtQuantile(q));
  });

  it('rejects a sketch written with another accuracy', () => {
    expect(() => decodeSketch('{"a":0.05,"z":0,"k":[],"c":[]}')).toThrow(/accuracy/);
  });
});

describe('RollupAggregator', () => {
  it('classifies failed requests: 5xx and errors after a successful start, not client 4xx', () => {
    expect(isFailedRequest({ status: 503, errorType: 'upstream_503' })).toBe(true);
    expect(isFailedRequest({ status: 200, errorType: 'upstream_bad_stream' })).toBe(true);
    expect(isFailedRequest({ status: 499, errorType: 'client_closed' })).toBe(false);
    expect(isFailedRequest({ status: 422, errorType: 'tool_call_invalid' })).toBe(false);
    expect(isFailedRequest({ status: 200, errorType: null })).toBe(false);
  });

  it('counts a canary request the candidate failed as failed, even when stable answered it', async () => {
    expect(isMaskedCandidateFailure({ cohort: 'canary', fallback: 'candidate_error' })).toBe(true);
    expect(isMaskedCandidateFailure({ cohort: 'canary', fallback: 'breaker_open' })).toBe(true);
    // An invalid tool call is the tool-call signal's, not a request error.
    expect(isMaskedCandidateFailure({ cohort: 'canary', fallback: 'tool_call_invalid' })).toBe(false);
    expect(isMaskedCandidateFailure({ cohort: 'stable', fallback: 'breaker_open' })).toBe(false);
    const clock = new ManualClock(T0 + 2 * MIN);
    const store = new MemoryRollupStore();
    const agg = aggregator(store, clock);
    const canaryOnStable = { versionId: 'v1', cohort: 'canary' as const, status: 200 };
    agg.observe(
      [
        event({ ...canaryOnStable, fallback: 'candidate_error' }),
        event({ ...canaryOnStable, fallback: 'breaker_open' }),
        event({ ...canaryOnStable, fallback: null }),
        event({ versionId: 'v1', cohort: 'stable' }),
      ],
      true,
    );
    await agg.flush();
    expect(store.rows.map((r) => [r.cohort, r.requests, r.errors])).toEqual([
      ['canary', 3, 2],
      ['stable', 1, 0],
    ]);
  });

  it('folds events, feedback and judge scores into one row per key and minute', async () => {
    const clock = new ManualClock(T0);
    const store = new MemoryRollupStore();
    const agg = aggregator(store, clock);
    agg.observe(
      [
        event({
          atMs: T0 + 1000,
          latencyMs: 100,
          ttfbMs: 40,
          toolCallsChecked: 3,
          toolCallsInvalid: 2,
          invalidKinds: ['type', 'required'],
          toolCallsCoerced: 1,
          formatValid: true,
        }),
        event({
          atMs: T0 + 2000,
          latencyMs: 300,
          status: 502,
          errorType: 'upstream_502',
          invalidKinds: [],
          formatValid: false,
        }),
        event({
          atMs: T0 + 3000,
          latencyMs: 200,
          toolCallsChecked: 1,
          toolCallsInvalid: 1,
          invalidKinds: ['type'],
        }),
        event({ atMs: T0 + 4000, versionId: 'v2', cohort: 'canary' }),
      ],
      false,
    );
    agg.recordFeedback({
      atMs: T0 + 5000,
      tenantId: 'alpha',
      channel: 'gpt-x',
      versionId: 'v1',
      cohort: 'stable',
      outcome: 'failure',
      downstreamErrors: 4,
    });
    agg.recordFeedback({
      atMs: T0 + 6000,
      tenantId: 'alpha',
      channel: 'gpt-x',
      versionId: 'v1',
      cohort: 'stable',
      outcome: null,
      downstreamErrors: 0,
    });
    const judge = {
      tenantId: 'alpha',
      channel: 'gpt-x',
      candidateVersionId: 'v2',
      stableVersionId: 'v1',
      requestId: 'r',
    };
    agg.record({ ...judge, atMs: T0 + 7000, source: 'canary', score: 0.5 });
    agg.record({ ...judge, atMs: T0 + 8000, source: 'shadow', score: 1.5 }); // clamped to 1
    agg.record({ ...judge, atMs: T0 + 9000, source: 'shadow', score: Number.NaN });
    clock.set(T0 + MIN + 5000);
    await agg.flush();

    const stable = store.rows.find((r) => r.versionId === 'v1');
    expect(stable).toMatchObject({
      minuteMs: T0,
      cohort: 'stable',
      requests: 3,
      errors: 1,
      toolCallsChecked: 4,
      toolCallsInvalid: 3,
      invalidKinds: { type: 2, required: 1 },
      toolCallsCoerced: 1,
      formatChecked: 2,
      formatValid: 1,
      tasksReported: 1,
      tasksFailed: 1,
      downstreamReports: 2,
      downstreamErrorReports: 1,
      downstreamErrors: 4,
      lastEventMs: T0 + 6000,
    });
    expect(decodeSketch(stable?.latency ?? '').count).toBe(3);
    expect(decodeSketch(stable?.ttfb ?? '').count).toBe(1);
    const byCohort = Object.fromEntries(
      store.rows.filter((r) => r.versionId === 'v2').map((r) => [r.cohort, r]),
    );
    expect(byCohort.canary).toMatchObject({ requests: 1, judgeN: 1, judgeSum: 0.5, judgeSumSq: 0.25 });
    expect(byCohort.shadow).toMatchObject({ requests: 0, judgeN: 1, judgeSum: 1, judgeSumSq: 1 });
    expect(agg.stats()).toMatchObject({
      events: 4,
      eventsRawUnstored: 4,
      feedback: 2,
      judgeScores: 2,
      droppedInvalid: 1,
      late: 0,
    });
  });

  it('places a request in the minute it completed and writes a minute only once it is closed', async () => {
    const clock = new ManualClock(T0);
    const store = new MemoryRollupStore();
    const agg = aggregator(store, clock);
    agg.observe(
      [event({ atMs: T0 + 59_950, latencyMs: 100 }), event({ atMs: T0 + 59_000, latencyMs: 900 })],
      true,
    );
    clock.set(T0 + 2 * MIN + 4_999); // [T0+1m, T0+2m) has ended, but is within the grace
    await agg.flush();
    expect(store.rows.map((r) => [r.minuteMs, r.requests, r.lastEventMs])).toEqual([[T0, 1, T0 + 59_900]]);
    expect((await store.writers())[0]).toMatchObject({ closedThroughMs: T0 + MIN });
    clock.set(T0 + 2 * MIN + 5_000);
    await agg.flush();
    expect(store.rows.map((r) => [r.minuteMs, r.requests, r.lastEventMs])).toEqual([
      [T0, 1, T0 + 59_900],
      [T0 + MIN, 1, T0 + 60_050],
    ]);
    expect((await store.writers())[0]).toMatchObject({
      closedThroughMs: T0 + 2 * MIN,
      lastFlushMs: T0 + 2 * MIN + 5_000,
    });
  });

  it('keeps the last event time in whole milliseconds (a BIGINT on PostgreSQL)', async () => {
    const clock = new ManualClock(T0 + 2 * MIN);
    const store = new MemoryRollupStore();
    const agg = aggregator(store, clock);
    agg.observe([event({ atMs: T0 + 1000, latencyMs: 12.8005 }), event({ atMs: T0, latencyMs: 0.3 })], true);
    await agg.flush();
    expect(store.rows.map((r) => r.lastEventMs)).toEqual([T0 + 1013]);
  });

  it('still writes data for a minute already closed, as a further delta, and counts it late', async () => {
    const clock = new ManualClock(T0 + 2 * MIN);
    const store = new MemoryRollupStore();
    const agg = aggregator(store, clock);
    agg.observe([event({ atMs: T0 })], true);
    await agg.flush();
    agg.observe([event({ atMs: T0 + 1000 })], true);
    await agg.flush();
    expect(store.rows.map((r) => [r.minuteMs, r.flushId, r.requests])).toEqual([
      [T0, 1, 1],
      [T0, 2, 1],
    ]);
    expect(agg.stats().late).toBe(1);
  });

  it('merges several writers into the same figures one writer would have, quantiles within the sketch accuracy', async () => {
    const clock = new ManualClock(T0);
    const xs = latencies(3000, 7);
    const events: TelemetryEvent[] = xs.map((latencyMs, i) =>
      event({
        atMs: T0 + (i % 170) * 1000,
        latencyMs,
        status: i % 50 === 0 ? 500 : 200,
        toolCallsChecked: 1,
        toolCallsInvalid: i % 20 === 0 ? 1 : 0,
        invalidKinds: i % 20 === 0 ? ['type'] : [],
      }),
    );
    const one = new MemoryRollupStore();
    const single = aggregator(one, clock, { writerId: 'solo' });
    single.observe(events, true);
    const many = new MemoryRollupStore();
    const writers = ['a', 'b', 'c'].map((w) => aggregator(many, clock, { writerId: w }));
    events.forEach((e, i) => {
      writers[i % 3]?.observe([e], true);
    });
    clock.set(T0 + 10 * MIN);
    await Promise.all([single.flush(), ...writers.map((w) => w.flush())]);
    expect(new Set(many.rows.map((r) => r.writerId))).toEqual(new Set(['a', 'b', 'c']));

    const q = { tenantId: 'alpha', fromMs: T0, toMs: T0 + 10 * MIN, stepMs: 10 * MIN };
    const [solo] = await metricsSeries(one, q);
    const [merged] = await metricsSeries(many, q);
    expect(merged?.points).toEqual(solo?.points);
    const p = merged?.points[0];
    expect(p).toMatchObject({ requests: 3000, errors: 60, toolCalls: { checked: 3000, invalid: 150 } });
    for (const [name, q] of [
      ['p50', 0.5],
      ['p95', 0.95],
      ['p99', 0.99],
    ] as const) {
      const exact = exactQuantile(xs, q);
      const got = p?.latencyMs[name] as number;
      expect(Math.abs(got - exact) / exact).toBeLessThanOrEqual(SKETCH_RELATIVE_ACCURACY + 1e-9);
    }
  });

  it('keeps a failed flush and retries it with the same id, without duplicating rows', async () => {
    const clock = new ManualClock(T0);
    const store = new MemoryRollupStore();
    const errors: unknown[] = [];
    const agg = new RollupAggregator(store, clock, { ...OPTS, writerId: 'w1' }, (e) => errors.push(e));
    open.push(agg);
    agg.observe([event({ atMs: T0 }), event({ atMs: T0 + 1000 })], true);
    clock.set(T0 + 2 * MIN);
    store.failWith = new Error('database gone');
    await agg.flush();
    expect(agg.stats()).toMatchObject({ failedFlushes: 1, pendingRows: 1, lastError: 'database gone' });
    expect(errors).toHaveLength(1);
    store.failWith = null;
    store.failAfterCommit = true; // committed, but the acknowledgement is lost
    await agg.flush();
    expect(agg.stats()).toMatchObject({ failedFlushes: 2, pendingRows: 1 });
    await agg.flush(); // the retry meets its own committed flush: done, not written twice
    expect(store.rows).toHaveLength(1);
    expect(store.rows[0]?.requests).toBe(2);
    expect(agg.stats()).toMatchObject({ pendingRows: 0, rowsWritten: 1, lastError: null, droppedPending: 0 });
  });

  it('drops and counts what exceeds its memory bounds instead of growing', async () => {
    const clock = new ManualClock(T0);
    const store = new MemoryRollupStore();
    const agg = aggregator(store, clock, { maxOpenRows: 2, maxPendingRows: 2 });
    agg.observe(
      [
        event({ tenantId: 'a' }),
        event({ tenantId: 'b' }),
        event({ tenantId: 'c' }),
        event({ tenantId: 'a' }),
      ],
      true,
    );
    expect(agg.stats()).toMatchObject({ events: 3, droppedOpen: 1, openRows: 2 });
    store.failWith = new Error('down');
    clock.set(T0 + 2 * MIN);
    await agg.flush(); // pending: 2 rows
    agg.observe([event({ atMs: T0 + 2 * MIN, tenantId: 'd' })], true);
    clock.set(T0 + 4 * MIN);
    await agg.flush(); // 3 pending rows > 2: the oldest flush (3 events) is discarded
    expect(agg.stats()).toMatchObject({ droppedPending: 3, pendingRows: 1 });
    store.failWith = null;
    await agg.flush();
    expect(store.rows.map((r) => r.tenantId)).toEqual(['d']);
  });

  it('writes the current, still open minute on close', async () => {
    const clock = new ManualClock(T0 + 10_000);
    const store = new MemoryRollupStore();
    const agg = new RollupAggregator(store, clock, { ...OPTS, writerId: 'w1' });
    agg.observe([event({ atMs: T0 + 5000 })], true);
    await agg.close();
    expect(store.rows.map((r) => r.requests)).toEqual([1]);
    expect((await store.writers())[0]?.closedThroughMs).toBe(T0 + MIN);
  });
});
