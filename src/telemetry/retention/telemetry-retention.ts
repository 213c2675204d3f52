import type { Clock } from '../../shared/clock.js';
import type { SqlDatabase } from '../../storage/sql-database.js';
import { DAY_MS, dayOf } from '../rollups/rollup-types.js';
import { DayPartitions } from './day-partitions.js';

/** Tables partitioned by day on PostgreSQL (migrations 0010 and 0011). */
export const PARTITIONED_TABLES = ['telemetry_events', 'telemetry_rollups'] as const;
/** Append-only tables with a `day` column whose old days are deleted (on SQLite, all of them). */
export const DAY_TABLES = ['telemetry_events', 'telemetry_rollups', 'gateway_feedback', 'shadow_results'];

export interface RetentionOptions {
  /** Days kept: a day is removed once all of it is older than this many days. */
  retentionDays: number;
  /** PostgreSQL: day partitions created ahead of today. */
  partitionsAheadDays: number;
  /** How often the job runs when started. */
  intervalMs: number;
  /** Tables deleted by `day` (beyond the partitioned ones on PostgreSQL). */
  dayTables?: readonly string[];
  /** SQLite: rows per DELETE, so a large cleanup never holds the write lock for long. */
  deleteBatch?: number;
}

export const DEFAULT_RETENTION: RetentionOptions = {
  retentionDays: 90,
  partitionsAheadDays: 3,
  intervalMs: 3_600_000,
};

export interface RetentionReport {
  /** Days before this one were removed. */
  cutoffDay: string;
  partitionsCreated: string[];
  partitionsDropped: string[];
  /** Rows moved out of default partitions into their day's new partition. */
  rowsMoved: number;
  /** Rows deleted per table (on PostgreSQL: from non-partitioned tables and default partitions). */
  rowsDeleted: Record<string, number>;
  writersForgotten: number;
}

/**
 * Telemetry retention and partition maintenance. On PostgreSQL: creates each day's partition of
 * the partitioned tables ahead of time (and for any day waiting in a default partition), drops the
 * partitions of expired days whole, and deletes expired days from the other tables. On SQLite:
 * deletes expired days in batches. Runs at start and then every `intervalMs`; it only ever removes
 * days older than the cutoff, computed from the injected clock.
 */
export class TelemetryRetention {
  private readonly opts: Required<RetentionOptions>;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RetentionReport> | null = null;
  private last: RetentionReport | null = null;
  private lastError: string | null = null;

  constructor(
    private readonly db: SqlDatabase,
    private readonly clock: Clock,
    opts: Partial<RetentionOptions> = {},
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.opts = {
      ...DEFAULT_RETENTION,
      dayTables: DAY_TABLES,
      deleteBatch: 5000,
      ...opts,
    } as Required<RetentionOptions>;
    if (!Number.isInteger(this.opts.retentionDays) || this.opts.retentionDays < 1) {
      throw new Error('retentionDays must be a whole number of days, at least 1');
    }
    for (const t of this.opts.dayTables) {
      if (!/^[a-z_][a-z0-9_]*$/.test(t)) throw new Error(`not a table name: ${t}`);
    }
  }

  /** The first day kept at `nowMs`: the day containing the instant `retentionDays` ago. */
  cutoffDay(nowMs: number): string {
    return dayOf(nowMs - this.opts.retentionDays * DAY_MS);
  }

  /** One pass (a pass already running is joined, not repeated). */
  runOnce(): Promise<RetentionReport> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Runs now and then every `intervalMs`; failures are reported and retried on the next tick. */
  start(): void {
    if (this.timer) return;
    const tick = () =>
      void this.runOnce().catch((err) => {
        this.lastError = err instanceof Error ? err.message : String(err);
        this.onError(err);
      });
    tick();
    this.timer = setInterval(tick, this.opts.intervalMs).unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
  }

  stats(): { last: RetentionReport | null; lastError: string | null } {
    return { last: this.last, lastError: this.lastError };
  }

  private async pass(): Promise<RetentionReport> {
    const now = this.clock.now();
    const cutoffDay = this.cutoffDay(now);
    const report: RetentionReport = {
      cutoffDay,
      partitionsCreated: [],
      partitionsDropped: [],
      rowsMoved: 0,
      rowsDeleted: {},
      writersForgotten: 0,
    };
    const partitioned = new Set<string>(this.db.dialect === 'postgres' ? PARTITIONED_TABLES : []);
    for (const table of partitioned) {
      const parts = new DayPartitions(this.db, table);
      const wanted = new Set<string>();
      // Yesterday too: a process starting just after midnight may still write it.
      for (let d = -1; d <= this.opts.partitionsAheadDays; d++) wanted.add(dayOf(now + d * DAY_MS));
      for (const day of await parts.defaultDays()) wanted.add(day);
      for (const day of [...wanted].sort()) {
        if (day < cutoffDay) continue;
        const moved = await parts.ensure(day);
        if (moved === null) continue;
        report.partitionsCreated.push(`${table}:${day}`);
        report.rowsMoved += moved;
      }
      const { dropped, defaultRowsDeleted } = await parts.dropBefore(cutoffDay);
      report.partitionsDropped.push(...dropped.map((d) => `${table}:${d}`));
      report.rowsDeleted[table] = defaultRowsDeleted;
    }
    for (const table of this.opts.dayTables) {
      if (partitioned.has(table)) continue;
      report.rowsDeleted[table] = await this.deleteDays(table, cutoffDay);
    }
    const forgotten = await this.db.run('DELETE FROM telemetry_rollup_writers WHERE last_flush_ms < ?', [
      now - this.opts.retentionDays * DAY_MS,
    ]);
    report.writersForgotten = forgotten.changes;
    this.last = report;
    this.lastError = null;
    return report;
  }

  private async deleteDays(table: string, cutoffDay: string): Promise<number> {
    if (this.db.dialect === 'postgres') {
      return (await this.db.run(`DELETE FROM ${table} WHERE day < ?`, [cutoffDay])).changes;
    }
    let total = 0;
    for (;;) {
      const r = await this.db.run(
        `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE day < ? LIMIT ?)`,
        [cutoffDay, this.opts.deleteBatch],
      );
      total += r.changes;
      if (r.changes < this.opts.deleteBatch) return total;
    }
  }
}
