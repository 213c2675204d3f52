import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../storage/migrations.js';
import { MIGRATIONS } from '../storage/schema.js';
import { SqliteDatabase } from '../storage/sqlite-database.js';
import { BatchingSink } from './batching-sink.js';
import { event } from './rollups/test-support/rollup-fixtures.js';
import { SqlTelemetryEventStore } from './sql-telemetry-store.js';
import { SqliteWorkerTelemetryStore } from './sqlite-worker-telemetry-store.js';
import type { TelemetryEvent } from './telemetry-event.js';

const numbered = (i: number, over: Partial<TelemetryEvent> = {}): TelemetryEvent =>
  event({
    atMs: Date.UTC(2026, 10, 25, 12) + i,
    requestId: `req-${i}`,
    sessionId: `s${i % 7}`,
    toolNames: i % 2 ? ['get_weather'] : [],
    toolCallsChecked: i % 2,
    invalidKinds: i % 5 === 0 ? ['type'] : [],
    toolCallsInvalid: i % 5 === 0 ? 1 : 0,
    ttfbMs: i % 3 ? 4.5 : null,
    formatValid: i % 4 === 0 ? true : null,
    ...over,
  });

describe('telemetry events written from a worker thread', () => {
  let dir: string;
  let db: SqliteDatabase;
  let store: SqliteWorkerTelemetryStore;
  const count = async () =>
    (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM telemetry_events'))?.n ?? -1;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sy-telemetry-worker-'));
    db = new SqliteDatabase(join(dir, 'switchyard.db'));
    await migrate(db, MIGRATIONS);
    store = new SqliteWorkerTelemetryStore(join(dir, 'switchyard.db'));
  });
  afterEach(async () => {
    await store.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores every event of a batch larger than one INSERT, readable on the main connection', async () => {
    const batch = Array.from({ length: 450 }, (_, i) => numbered(i));
    await store.append(batch);
    expect(await count()).toBe(450);
    const recent = await new SqlTelemetryEventStore(db).recent('alpha', 3);
    expect(recent).toEqual([numbered(449), numbered(448), numbered(447)]);
  });

  it('writes beside the main thread’s own transactions without failing either', async () => {
    await db.run('CREATE TABLE side_writes (n INTEGER NOT NULL)');
    const work: Promise<unknown>[] = [];
    for (let b = 0; b < 20; b++) {
      work.push(store.append(Array.from({ length: 100 }, (_, i) => numbered(b * 100 + i))));
      work.push(
        db.transaction(async (tx) => {
          for (let i = 0; i < 50; i++) await tx.run('INSERT INTO side_writes (n) VALUES (?)', [b * 50 + i]);
        }),
      );
    }
    await Promise.all(work);
    expect(await count()).toBe(2000);
    expect((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM side_writes'))?.n).toBe(1000);
  });

  it('fails a batch whole when one event cannot be stored, and keeps writing the next ones', async () => {
    const bad = numbered(2, { tenantId: null as unknown as string });
    await expect(store.append([numbered(1), bad, numbered(3)])).rejects.toThrow(/NOT NULL/);
    expect(await count()).toBe(0);
    await store.append([numbered(4)]);
    expect(await count()).toBe(1);
  });

  it('behind the batching sink, counts as written exactly what was stored', async () => {
    const sink = new BatchingSink<TelemetryEvent>((b) => store.append(b), {
      capacity: 10_000,
      batchSize: 250,
      flushIntervalMs: 50,
    });
    for (let i = 0; i < 3000; i++) sink.push(numbered(i));
    await sink.close();
    expect(sink.stats()).toMatchObject({ accepted: 3000, written: 3000, failed: 0, dropped: 0 });
    expect(await count()).toBe(3000);
  });

  it('finishes writes in flight on close, then refuses new ones', async () => {
    const inFlight = store.append(Array.from({ length: 300 }, (_, i) => numbered(i)));
    await store.close();
    await inFlight;
    expect(await count()).toBe(300);
    await expect(store.append([numbered(1)])).rejects.toThrow(/closed/);
  });

  it('fails the batches a dead writer held and starts a new writer for the next batch', async () => {
    await store.append([numbered(1)]);
    const worker = (store as unknown as { worker: { terminate(): Promise<number> } }).worker;
    // Large enough that the thread is still receiving or writing it when it is stopped.
    const lost = store.append(Array.from({ length: 5000 }, (_, i) => numbered(10 + i)));
    await worker.terminate();
    await expect(lost).rejects.toThrow(/exited/);
    await store.append([numbered(3)]);
    const ids = (await new SqlTelemetryEventStore(db).recent('alpha', 10)).map((e) => e.requestId);
    // The lost batch is all or nothing: none of it is there.
    expect(ids).toEqual(['req-3', 'req-1']);
  });

  it('refuses an in-memory database, which no other connection can see', () => {
    expect(() => new SqliteWorkerTelemetryStore(':memory:')).toThrow(/in-memory/);
  });
});
