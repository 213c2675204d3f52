import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import type { SqlDatabase } from '../../storage/sql-database.js';
import { openFreshPostgres, postgresAvailable } from '../../test-support/postgres.js';
import { DAY_MS, dayOf } from '../rollups/rollup-types.js';
import { event } from '../rollups/test-support/rollup-fixtures.js';
import { SqlTelemetryEventStore } from '../sql-telemetry-store.js';
import { DayPartitions } from './day-partitions.js';
import { daysIn, describeRetentionContract, NOW, seed } from './telemetry-retention.contract.js';
import { PARTITIONED_TABLES, TelemetryRetention } from './telemetry-retention.js';

const available = await postgresAvailable();
const dayAgo = (age: number) => dayOf(NOW - age * DAY_MS);

describe.skipIf(!available)('PostgreSQL', () => {
  describeRetentionContract('PostgreSQL', () => openFreshPostgres(4));

  describe('day partitions', () => {
    let db: SqlDatabase;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ db, cleanup } = await openFreshPostgres(4));
    });
    afterEach(async () => cleanup());

    async function partitionOf(table: string, day: string): Promise<string[]> {
      const rows = await db.all<{ p: string }>(
        `SELECT DISTINCT tableoid::regclass::text AS p FROM ${table} WHERE day = ?`,
        [day],
      );
      return rows.map((r) => r.p);
    }

    it('creates partitions ahead, moves waiting rows out of the default, and drops expired partitions whole', async () => {
      await seed(db);
      const clock = new ManualClock(NOW);
      const retention = new TelemetryRetention(db, clock, { retentionDays: 90, partitionsAheadDays: 2 });
      const report = await retention.runOnce();
      const kept = [90, 89, 30, 1, 0].map(dayAgo);
      for (const table of PARTITIONED_TABLES) {
        expect(await new DayPartitions(db, table).days()).toEqual([...kept, dayAgo(-1), dayAgo(-2)]);
        expect(await daysIn(db, `${table}_default`)).toEqual([]);
        for (const day of kept)
          expect(await partitionOf(table, day)).toEqual([`${table}_p${day.replaceAll('-', '')}`]);
      }
      expect(report.rowsMoved).toBe(10); // five kept days, two tables
      expect(report.partitionsDropped).toEqual([]);

      // 30 days later, the 90- and 89-day-old partitions (and nothing newer) are dropped whole.
      clock.set(NOW + 30 * DAY_MS);
      const later = await retention.runOnce();
      expect(later.partitionsDropped.sort()).toEqual(
        PARTITIONED_TABLES.flatMap((t) => [`${t}:${dayAgo(90)}`, `${t}:${dayAgo(89)}`]).sort(),
      );
      for (const table of PARTITIONED_TABLES) {
        expect(await daysIn(db, table)).toEqual([30, 1, 0].map(dayAgo));
        const days = await new DayPartitions(db, table).days();
        expect(days[0]).toBe(dayAgo(30));
        expect(days.at(-1)).toBe(dayOf(NOW + 32 * DAY_MS));
      }
    });

    it('keeps accepting writes into days with and without a partition', async () => {
      const clock = new ManualClock(NOW);
      await new TelemetryRetention(db, clock, { partitionsAheadDays: 1 }).runOnce();
      const events = new SqlTelemetryEventStore(db);
      await events.append([
        event({ atMs: NOW, requestId: 'in-partition' }),
        event({ atMs: NOW + 20 * DAY_MS, requestId: 'ahead' }),
      ]);
      expect(await partitionOf('telemetry_events', dayOf(NOW))).toEqual([
        `telemetry_events_p${dayOf(NOW).replaceAll('-', '')}`,
      ]);
      expect(await partitionOf('telemetry_events', dayOf(NOW + 20 * DAY_MS))).toEqual([
        'telemetry_events_default',
      ]);
      expect((await events.recent('alpha', 10)).map((e) => e.requestId)).toEqual(['ahead', 'in-partition']);
    });
  });
});
