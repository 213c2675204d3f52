import { describe, expect, it } from 'vitest';
import { BatchingSink } from './batching-sink.js';
import { ObservedTelemetryStore } from './observed-store.js';
import { RetryingTelemetryEventStore, sinkStatsWithBacklog } from './retrying-event-store.js';
import { event } from './rollups/test-support/rollup-fixtures.js';
import type { TelemetryEvent, TelemetryEventStore } from './telemetry-event.js';

/** A store whose database can be taken away. */
class FlakyStore implements TelemetryEventStore {
  up = true;
  readonly written: string[] = [];
  async append(events: readonly TelemetryEvent[]): Promise<void> {
    if (!this.up) throw new Error('connection refused');
    this.written.push(...events.map((e) => e.requestId));
  }
}

const batch = (...ids: string[]) => ids.map((requestId) => event({ requestId }));

describe('RetryingTelemetryEventStore', () => {
  it('keeps the batches of a database outage and writes them, in order, when it is back', async () => {
    const inner = new FlakyStore();
    const reported: unknown[] = [];
    const store = new RetryingTelemetryEventStore(inner, { retryIntervalMs: 3_600_000 }, (e) =>
      reported.push(e),
    );
    await store.append(batch('a'));
    inner.up = false;
    await store.append(batch('b', 'c'));
    await store.append(batch('d'));
    await store.drain();
    expect(store.stats()).toMatchObject({ backlog: 3, failedWrites: 2, lastError: 'connection refused' });
    expect(reported).toHaveLength(1);
    inner.up = true;
    await store.append(batch('e'));
    await store.drain();
    expect(inner.written).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(store.stats()).toMatchObject({ backlog: 0, retried: 4, dropped: 0, lastError: null });
    await store.close();
  });

  it('lets the observers see each batch once, whatever the retries (no double rollups)', async () => {
    const inner = new FlakyStore();
    const store = new RetryingTelemetryEventStore(inner, { retryIntervalMs: 3_600_000 });
    const observed = new ObservedTelemetryStore(store);
    const seen: Array<[string[], boolean]> = [];
    observed.add({ observe: (b, stored) => seen.push([b.map((e) => e.requestId), stored]) });
    inner.up = false;
    await observed.append(batch('a'));
    inner.up = true;
    await store.drain();
    expect(seen).toEqual([[['a'], true]]);
    expect(inner.written).toEqual(['a']);
    await store.close();
  });

  it('drops the oldest batches beyond its bound, and counts them', async () => {
    const inner = new FlakyStore();
    inner.up = false;
    const store = new RetryingTelemetryEventStore(inner, { maxBacklogEvents: 3, retryIntervalMs: 3_600_000 });
    await store.append(batch('a', 'b'));
    await store.append(batch('c'));
    await store.append(batch('d', 'e'));
    expect(store.stats()).toMatchObject({ backlog: 3, dropped: 2 });
    inner.up = true;
    await store.close();
    expect(inner.written).toEqual(['c', 'd', 'e']);
  });

  it('retries on its timer while the database is away', async () => {
    const inner = new FlakyStore();
    inner.up = false;
    const store = new RetryingTelemetryEventStore(inner, { retryIntervalMs: 10 });
    await store.append(batch('a'));
    inner.up = true;
    await new Promise((r) => setTimeout(r, 50));
    expect(inner.written).toEqual(['a']);
    await store.close();
  });
});

describe('sinkStatsWithBacklog', () => {
  it('reports events waiting for the database as buffered and those it dropped as dropped, never as written', async () => {
    const inner = new FlakyStore();
    const store = new RetryingTelemetryEventStore(inner, { maxBacklogEvents: 4, retryIntervalMs: 3_600_000 });
    const sink = new BatchingSink<TelemetryEvent>((b) => store.append(b), {
      capacity: 100,
      batchSize: 2,
      flushIntervalMs: 3_600_000,
    });
    const stats = () => sinkStatsWithBacklog(sink.stats(), store.stats());
    for (const id of ['a', 'b']) sink.push(event({ requestId: id }));
    await sink.flush();
    inner.up = false;
    for (const id of ['c', 'd', 'e', 'f', 'g', 'h']) sink.push(event({ requestId: id }));
    await sink.flush();
    expect(stats()).toMatchObject({ accepted: 8, written: 2, buffered: 4, dropped: 2, failed: 0 });
    inner.up = true;
    await store.drain();
    expect(stats()).toMatchObject({ accepted: 8, written: 6, buffered: 0, dropped: 2 });
    expect(inner.written).toEqual(['a', 'b', 'e', 'f', 'g', 'h']);
    await sink.close();
    await store.close();
  });
});
