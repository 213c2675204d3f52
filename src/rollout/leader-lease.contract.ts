import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../shared/clock.js';
import type { SqlDatabase } from '../storage/sql-database.js';
import { LeaderLease } from './leader-lease.js';

/** The lease's contract on every database: one leader at a time, takeover only after expiry. */
export function describeLeaseContract(
  name: string,
  open: () => Promise<{ db: SqlDatabase; cleanup: () => Promise<void> }>,
) {
  describe(`leader lease: ${name}`, () => {
    let db: SqlDatabase;
    let cleanup: () => Promise<void>;
    const clock = new ManualClock(1_000_000);
    beforeEach(async () => {
      ({ db, cleanup } = await open());
    });
    afterEach(async () => cleanup());

    it('lets one holder lead and another take over only once the lease expired', async () => {
      const a = new LeaderLease(db, clock, 'controller', 'a', 15_000);
      const b = new LeaderLease(db, clock, 'controller', 'b', 15_000);
      expect(await a.acquire()).toBe(true);
      expect(await b.acquire()).toBe(false);
      clock.advance(10_000);
      expect(await a.acquire()).toBe(true); // renewal pushes expiry out
      clock.advance(10_000);
      expect(await b.acquire()).toBe(false);
      expect(a.isLeader()).toBe(false); // within the safety margin: stop acting before expiry
      clock.advance(6_000);
      expect(await b.acquire()).toBe(true);
      expect(b.term()).toBe(a.term() + 1);
      expect(await a.acquire()).toBe(false);
      expect(b.isLeader()).toBe(true);
    });

    it('gives exactly one winner when many contend for an expired lease', async () => {
      const contenders = Array.from(
        { length: 6 },
        (_, i) => new LeaderLease(db, clock, 'race', `c${i}`, 5_000),
      );
      const wins = await Promise.all(contenders.map((c) => c.acquire()));
      expect(wins.filter(Boolean)).toHaveLength(1);
      clock.advance(6_000);
      const again = await Promise.all(contenders.map((c) => c.acquire()));
      expect(again.filter(Boolean)).toHaveLength(1);
    });

    it('hands over at once on release', async () => {
      const a = new LeaderLease(db, clock, 'handover', 'a', 60_000);
      const b = new LeaderLease(db, clock, 'handover', 'b', 60_000);
      expect(await a.acquire()).toBe(true);
      await a.release();
      expect(await b.acquire()).toBe(true);
    });
  });
}
