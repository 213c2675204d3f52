import type { SqlDatabase, SqlExecutor } from '../../storage/sql-database.js';
import { DAY_MS } from '../rollups/rollup-types.js';

/** Serializes partition maintenance across processes sharing one PostgreSQL. */
const MAINTENANCE_LOCK = 727274010;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
}

export function partitionName(table: string, day: string): string {
  return `${table}_p${day.replaceAll('-', '')}`;
}

/** The day a partition of `table` holds, from its name; null for the default or foreign tables. */
export function partitionDay(table: string, name: string): string | null {
  const m = new RegExp(`^${table}_p(\\d{4})(\\d{2})(\\d{2})$`).exec(name);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

/**
 * A PostgreSQL table partitioned by range on its `day` text (`YYYY-MM-DD`), one partition per day
 * named `<table>_pYYYYMMDD`, and a DEFAULT partition `<table>_default` for rows of a day whose
 * partition does not exist yet (so a write never fails because maintenance is late).
 */
export class DayPartitions {
  constructor(
    private readonly db: SqlDatabase,
    readonly table: string,
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`not a table name: ${table}`);
  }

  /** The days that have their own partition, oldest first. */
  async days(): Promise<string[]> {
    const rows = await this.db.all<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
         JOIN pg_namespace n ON n.oid = p.relnamespace
       WHERE p.relname = ? AND n.nspname = current_schema()`,
      [this.table],
    );
    return rows
      .map((r) => partitionDay(this.table, r.name))
      .filter((d): d is string => d !== null)
      .sort();
  }

  /** Days that have rows waiting in the default partition. */
  async defaultDays(): Promise<string[]> {
    const rows = await this.db.all<{ day: string }>(
      `SELECT DISTINCT day FROM ${this.table}_default ORDER BY day`,
    );
    return rows.map((r) => r.day);
  }

  /**
   * Creates the partition of `day` unless it exists, moving that day's rows out of the default
   * partition first (PostgreSQL refuses a partition whose rows sit in the default). Writes of that
   * day into the default wait for the few statements this takes. Returns the rows moved, or null
   * when the partition already existed.
   */
  async ensure(day: string): Promise<number | null> {
    if (!DAY.test(day)) throw new Error(`not a day: ${day}`);
    const name = partitionName(this.table, day);
    return this.db.transaction(async (tx) => {
      await lock(tx);
      const exists = await tx.get<{ oid: string | null }>('SELECT to_regclass(?)::text AS oid', [name]);
      if (exists?.oid) return null;
      await tx.run(`LOCK TABLE ${this.table}_default IN EXCLUSIVE MODE`);
      await tx.run(`CREATE TABLE ${name} (LIKE ${this.table} INCLUDING DEFAULTS)`);
      const moved = await tx.run(
        `WITH moved AS (DELETE FROM ${this.table}_default WHERE day = ? RETURNING *)
         INSERT INTO ${name} SELECT * FROM moved`,
        [day],
      );
      await tx.run(
        `ALTER TABLE ${this.table} ATTACH PARTITION ${name} FOR VALUES FROM ('${day}') TO ('${nextDay(day)}')`,
      );
      return moved.changes;
    });
  }

  /** Drops every day partition older than `cutoffDay`, and that old rows of the default partition. */
  async dropBefore(cutoffDay: string): Promise<{ dropped: string[]; defaultRowsDeleted: number }> {
    const dropped: string[] = [];
    for (const day of await this.days()) {
      if (day >= cutoffDay) break;
      await this.db.transaction(async (tx) => {
        await lock(tx);
        await tx.run(`DROP TABLE IF EXISTS ${partitionName(this.table, day)}`);
      });
      dropped.push(day);
    }
    const r = await this.db.run(`DELETE FROM ${this.table}_default WHERE day < ?`, [cutoffDay]);
    return { dropped, defaultRowsDeleted: r.changes };
  }
}

async function lock(tx: SqlExecutor): Promise<void> {
  await tx.run(`SELECT pg_advisory_xact_lock(${MAINTENANCE_LOCK})`);
}
