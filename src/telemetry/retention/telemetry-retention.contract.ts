import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import type { SqlDatabase } from '../../storage/sql-database.js';
import { DAY_MS } from '../rollups/rollup-types.js';
import { SqlRollupStore } from '../rollups/sql-rollup-store.js';
import { event, row } from '../rollups/test-support/rollup-fixtures.js';
import { SqlTelemetryEventStore } from '../sql-telemetry-store.js';
import { DAY_TABLES, TelemetryRetention } from './telemetry-retention.js';

export const NOW = Date.UTC(2026, 5, 15, 12, 0);
/** Days before NOW that get one row in every table. */
export const AGES = [120, 91, 90, 89, 30, 1, 0];

/** One row per age in every table with a `day` column (and a heartbeat of a long-gone writer). */
export async function seed(db: SqlDatabase): Promise<void> {
  const events = new SqlTelemetryEventStore(db);
  const rollups = new SqlRollupStore(db);
  for (const age of AGES) {
    const at = NOW - age * DAY_MS;
    await events.append([event({ atMs: at, requestId: `r${age}`, latencyMs: 0 })]);
    await rollups.append({
      writerId: `w${age}`,
      flushId: 1,
      rows: [row({ minuteMs: at, writerId: `w${age}`, requests: 1 })],
      closedThroughMs: at,
      atMs: at,
    });
    const day = new Date(at).toISOString().slice(0, 10);
    await db.run(
      `INSERT INTO gateway_feedback (id, day, at_ms, tenant_id, key_id, session_id, downstream_errors)
       VALUES (?, ?, ?, 'alpha', 'k', 's', 0)`,
      [`f${age}`, day, at],
    );
    await db.run(
      `INSERT INTO shadow_results (id, day, at_ms, tenant_id, session_id, channel, request_id, wire,
         stable_version_id, stable_tool_calls, candidate_version_id, candidate_tool_calls)
       VALUES (?, ?, ?, 'alpha', 's', 'gpt-x', 'r', 'openai', 'v1', '[]', 'v2', '[]')`,
      [`s${age}`, day, at],
    );
  }
}

export async function daysIn(db: SqlDatabase, table: string): Promise<string[]> {
  const rows = await db.all<{ day: string }>(`SELECT DISTINCT day FROM ${table} ORDER BY day`);
  return rows.map((r) => r.day);
}

const dayAgo = (age: number) => new Date(NOW - age * DAY_MS).toISOString().slice(0, 10);

/** Retention's contract on every database: expired days go, newer days stay untouched. */
export function describeRetentionContract(
  name: string,
  open: () => Promise<{ db: SqlDatabase; cleanup: () => Promise<void> }>,
) {
  describe(`telemetry retention: ${name}`, () => {
    let db: SqlDatabase;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ db, cleanup } = await open());
      await seed(db);
    });
    afterEach(async () => cleanup());

    it('removes whole days older than the retention from every table and nothing newer', async () => {
      const clock = new ManualClock(NOW);
      const retention = new TelemetryRetention(db, clock, { retentionDays: 90, deleteBatch: 2 });
      expect(retention.cutoffDay(NOW)).toBe(dayAgo(90));
      const report = await retention.runOnce();
      const kept = [90, 89, 30, 1, 0].map(dayAgo);
      for (const table of DAY_TABLES) expect(await daysIn(db, table)).toEqual(kept);
      expect(report.cutoffDay).toBe(dayAgo(90));
      expect(report.writersForgotten).toBe(2);
      expect((await new SqlRollupStore(db).writers()).map((w) => w.writerId).sort()).toEqual(
        ['w0', 'w1', 'w30', 'w89', 'w90'].sort(),
      );
      // Running again changes nothing.
      await retention.runOnce();
      for (const table of DAY_TABLES) expect(await daysIn(db, table)).toEqual(kept);
    });

    it('follows the clock and the configured retention', async () => {
      const clock = new ManualClock(NOW + 30 * DAY_MS);
      await new TelemetryRetention(db, clock, { retentionDays: 31 }).runOnce();
      for (const table of DAY_TABLES) expect(await daysIn(db, table)).toEqual([1, 0].map(dayAgo));
    });

    it('refuses a retention of less than a day', () => {
      expect(() => new TelemetryRetention(db, new ManualClock(NOW), { retentionDays: 0 })).toThrow(
        /at least 1/,
      );
    });
  });
}
