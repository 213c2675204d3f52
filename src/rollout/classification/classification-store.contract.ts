import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../../storage/sql-database.js';
import { type ClassificationRecord, SqlClassificationStore } from './classification-store.js';

const record = (id: string, tenantId: string, at: string): ClassificationRecord => ({
  id,
  tenantId,
  at,
  actor: 'system:classification',
  trigger: 'schedule',
  outcome: 'moved',
  fromGroupId: 'standard',
  groupId: 'conservative',
  score: 9,
  factors: [{ factor: 'criticality', value: 'high', points: 4, why: 'criticality is high: 4 points' }],
  detail: { held: null, reason: 'classification' },
});

/** The classification store's contract (records and the guarded schedule) on every database. */
export function describeClassificationStoreContract(
  name: string,
  open: () => Promise<{ db: SqlDatabase; cleanup: () => Promise<void> }>,
) {
  describe(`classification store: ${name}`, () => {
    let db: SqlDatabase;
    let cleanup: () => Promise<void>;
    let store: SqlClassificationStore;
    beforeEach(async () => {
      ({ db, cleanup } = await open());
      store = new SqlClassificationStore(db);
    });
    afterEach(async () => cleanup());

    it('starts a schedule once: the first writer wins, the row reads back', async () => {
      expect(await store.getSchedule('fleet')).toBeUndefined();
      const results = await Promise.all([
        store.initSchedule('fleet', 1_000, 'a'),
        store.initSchedule('fleet', 1_000, 'b'),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const s = await store.getSchedule('fleet');
      expect(s).toMatchObject({
        name: 'fleet',
        startedAt: 1_000,
        finishedAt: 1_000,
        runs: 0,
        lastResult: null,
      });
      expect(['a', 'b']).toContain(s?.holder);
    });

    it('a due run is claimed by exactly one of the processes that saw it due', async () => {
      await store.initSchedule('fleet', 1_000, 'a');
      const seen = await store.getSchedule('fleet');
      if (!seen) throw new Error('no schedule');
      const claims = await Promise.all(
        ['a', 'b', 'c', 'd'].map((holder) => store.claimSchedule(seen, 9_000_000_000_000, holder)),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
      const after = await store.getSchedule('fleet');
      expect(after).toMatchObject({ startedAt: 9_000_000_000_000, finishedAt: 1_000, runs: 1 });
      // A stale view of the schedule can no longer claim it.
      expect(await store.claimSchedule(seen, 9_000_000_000_001, 'e')).toBe(false);
    });

    it('only the claiming process finishes its run, with its summary', async () => {
      await store.initSchedule('fleet', 1_000, 'a');
      const seen = await store.getSchedule('fleet');
      if (!seen) throw new Error('no schedule');
      expect(await store.claimSchedule(seen, 5_000, 'b')).toBe(true);
      expect(await store.finishSchedule('fleet', 5_000, 'a', 6_000, { moves: 9 })).toBe(false);
      expect(await store.finishSchedule('fleet', 5_000, 'b', 6_000, { moves: 1 })).toBe(true);
      expect(await store.getSchedule('fleet')).toMatchObject({
        startedAt: 5_000,
        finishedAt: 6_000,
        holder: 'b',
        runs: 1,
        lastResult: { moves: 1 },
      });
    });

    it("lists a tenant's classification records newest first, and only that tenant's", async () => {
      await store.insertRecord(record('cls_1', 'acme', '2026-01-01T00:00:00.000Z'));
      await store.insertRecord(record('cls_2', 'globex', '2026-02-01T00:00:00.000Z'));
      await store.insertRecord(record('cls_3', 'acme', '2026-03-01T00:00:00.000Z'));
      const acme = await store.listRecords('acme', 10);
      expect(acme.map((r) => r.id)).toEqual(['cls_3', 'cls_1']);
      expect(acme[0]).toEqual(record('cls_3', 'acme', '2026-03-01T00:00:00.000Z'));
      expect((await store.listRecords('acme', 1)).map((r) => r.id)).toEqual(['cls_3']);
    });
  });
}
