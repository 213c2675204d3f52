import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SqlDatabase, UniqueViolation } from '../../storage/sql-database.js';
import { decodeSketch, encodeSketch, newSketch } from './latency-sketch.js';
import type { RollupStore } from './rollup-types.js';
import { SqlRollupStore } from './sql-rollup-store.js';
import { row } from './test-support/rollup-fixtures.js';

const T0 = Date.UTC(2026, 0, 1, 23, 58);
const MIN = 60_000;

/** The rollup store's contract on every database. */
export function describeRollupStoreContract(
  name: string,
  open: () => Promise<{ db: SqlDatabase; cleanup: () => Promise<void> }>,
) {
  describe(`rollup store: ${name}`, () => {
    let db: SqlDatabase;
    let cleanup: () => Promise<void>;
    let store: RollupStore;
    beforeEach(async () => {
      ({ db, cleanup } = await open());
      store = new SqlRollupStore(db);
    });
    afterEach(async () => cleanup());

    it('stores every field and sketch of a row as written', async () => {
      const s = newSketch();
      for (const v of [12.5, 80, 80, 2400]) s.accept(v);
      const r = row({
        minuteMs: T0,
        requests: 7,
        errors: 2,
        toolCallsChecked: 9,
        toolCallsInvalid: 3,
        invalidKinds: { type: 2, required: 1 },
        toolCallsCoerced: 1,
        formatChecked: 4,
        formatValid: 3,
        tasksReported: 5,
        tasksFailed: 1,
        downstreamReports: 6,
        downstreamErrorReports: 2,
        downstreamErrors: 1_000_000,
        judgeN: 3,
        judgeSum: 2.25,
        judgeSumSq: 1.8125,
        latency: encodeSketch(s),
        ttfb: null,
        lastEventMs: T0 + 59_999,
      });
      await store.append({
        writerId: 'w1',
        flushId: 1,
        rows: [r],
        closedThroughMs: T0 + MIN,
        atMs: T0 + 65_000,
      });
      const [got] = await store.read({ tenantId: 'alpha', fromMs: T0, toMs: T0 + MIN });
      expect(got).toEqual(r);
      expect(decodeSketch(got?.latency ?? '').count).toBe(4);
    });

    it('filters by tenant, window (across days), channel, versions and cohort', async () => {
      const rows = [
        row({ minuteMs: T0, requests: 1 }),
        row({ minuteMs: T0 + MIN, requests: 2 }),
        row({ minuteMs: T0 + 2 * MIN, requests: 4 }), // the next UTC day
        row({ minuteMs: T0 + 3 * MIN, requests: 8 }),
        row({ minuteMs: T0 + MIN, tenantId: 'beta', requests: 16 }),
        row({ minuteMs: T0 + MIN, channel: 'other', requests: 32 }),
        row({ minuteMs: T0 + MIN, versionId: 'v2', cohort: 'canary', requests: 64 }),
      ];
      await store.append({ writerId: 'w1', flushId: 1, rows, closedThroughMs: T0, atMs: T0 });
      const sum = async (q: Parameters<RollupStore['read']>[0]) =>
        (await store.read(q)).reduce((n, r) => n + r.requests, 0);
      expect(await sum({ tenantId: 'alpha', fromMs: T0 + MIN, toMs: T0 + 3 * MIN })).toBe(2 + 4 + 32 + 64);
      expect(await sum({ tenantId: 'beta', fromMs: T0, toMs: T0 + 4 * MIN })).toBe(16);
      expect(await sum({ fromMs: T0 + MIN, toMs: T0 + 2 * MIN })).toBe(2 + 16 + 32 + 64);
      expect(await sum({ tenantId: 'alpha', channel: 'gpt-x', fromMs: T0, toMs: T0 + 4 * MIN })).toBe(
        1 + 2 + 4 + 8 + 64,
      );
      expect(await sum({ tenantId: 'alpha', versionIds: ['v2'], fromMs: T0, toMs: T0 + 4 * MIN })).toBe(64);
      expect(await sum({ tenantId: 'alpha', versionIds: [], fromMs: T0, toMs: T0 + 4 * MIN })).toBe(0);
      expect(await sum({ tenantId: 'alpha', cohort: 'stable', fromMs: T0, toMs: T0 + 4 * MIN })).toBe(
        1 + 2 + 4 + 8 + 32,
      );
    });

    it('keeps each writer and flush as its own row, so readers can merge them', async () => {
      await store.append({
        writerId: 'w1',
        flushId: 1,
        rows: [row({ minuteMs: T0, requests: 3 })],
        closedThroughMs: T0 + MIN,
        atMs: T0,
      });
      await store.append({
        writerId: 'w2',
        flushId: 1,
        rows: [row({ minuteMs: T0, writerId: 'w2', requests: 4 })],
        closedThroughMs: T0 + MIN,
        atMs: T0,
      });
      await store.append({
        writerId: 'w1',
        flushId: 2,
        rows: [row({ minuteMs: T0, flushId: 2, requests: 5 })],
        closedThroughMs: T0 + MIN,
        atMs: T0,
      });
      const rows = await store.read({ tenantId: 'alpha', fromMs: T0, toMs: T0 + MIN });
      expect(rows.map((r) => [r.writerId, r.flushId, r.requests])).toEqual([
        ['w1', 1, 3],
        ['w1', 2, 5],
        ['w2', 1, 4],
      ]);
    });

    it('refuses the same flush twice and keeps the first write alone', async () => {
      const flush = {
        writerId: 'w1',
        flushId: 7,
        rows: [row({ minuteMs: T0, flushId: 7, requests: 3 })],
        closedThroughMs: T0 + MIN,
        atMs: T0,
      };
      await store.append(flush);
      await expect(store.append(flush)).rejects.toBeInstanceOf(UniqueViolation);
      expect(await store.read({ tenantId: 'alpha', fromMs: T0, toMs: T0 + MIN })).toHaveLength(1);
    });

    it('records each writer heartbeat, which only moves forward', async () => {
      await store.append({
        writerId: 'w1',
        flushId: 1,
        rows: [],
        closedThroughMs: T0 + MIN,
        atMs: T0 + 70_000,
      });
      await store.append({ writerId: 'w2', flushId: 1, rows: [], closedThroughMs: T0, atMs: T0 + 10_000 });
      await store.append({ writerId: 'w1', flushId: 2, rows: [], closedThroughMs: T0, atMs: T0 + 5_000 });
      expect(await store.writers()).toEqual([
        { writerId: 'w1', lastFlushMs: T0 + 70_000, closedThroughMs: T0 + MIN },
        { writerId: 'w2', lastFlushMs: T0 + 10_000, closedThroughMs: T0 },
      ]);
    });

    it('writes a large flush in one transaction', async () => {
      const rows = Array.from({ length: 1200 }, (_, i) =>
        row({ minuteMs: T0, versionId: `v${i}`, requests: 1 }),
      );
      await store.append({ writerId: 'w1', flushId: 1, rows, closedThroughMs: T0 + MIN, atMs: T0 });
      expect(await store.read({ tenantId: 'alpha', fromMs: T0, toMs: T0 + MIN })).toHaveLength(1200);
    });
  });
}
