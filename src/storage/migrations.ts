import type { Dialect, SqlDatabase, SqlExecutor } from './sql-database.js';

/**
 * One logical schema, one list of migrations. SQL is written once; the few types the dialects
 * spell differently are tokens replaced per dialect:
 *   {{seq}}  an auto-incrementing 64-bit primary key
 *   {{big}}  a 64-bit integer        {{real}} a double
 * Booleans are INTEGER 0/1 and JSON is TEXT in both, so rows map the same way everywhere.
 */
export interface Migration {
  id: string;
  statements: string[];
  /** Statements for one dialect instead of `statements`, for what only one of them has
   * (PostgreSQL's declarative partitioning). An empty list applies nothing on that dialect. */
  byDialect?: Partial<Record<Dialect, string[]>>;
}

const TOKENS: Record<Dialect, Record<string, string>> = {
  sqlite: { seq: 'INTEGER PRIMARY KEY AUTOINCREMENT', big: 'INTEGER', real: 'REAL' },
  postgres: {
    seq: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
    big: 'BIGINT',
    real: 'DOUBLE PRECISION',
  },
};

export function renderSql(sql: string, dialect: Dialect): string {
  return sql.replace(/\{\{(\w+)\}\}/g, (_, token: string) => {
    const out = TOKENS[dialect][token];
    if (out === undefined) throw new Error(`unknown SQL token {{${token}}}`);
    return out;
  });
}

/** Applies the migrations not yet applied, each in its own transaction, in order. */
export async function migrate(db: SqlDatabase, migrations: readonly Migration[]): Promise<string[]> {
  const applied: string[] = [];
  // Under the lock too: concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL.
  await db.transaction(async (tx) => {
    await lockMigrations(tx);
    await tx.run(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)',
    );
  });
  for (const m of migrations) {
    const done = await db.transaction(async (tx) => {
      await lockMigrations(tx);
      const seen = await tx.get('SELECT id FROM schema_migrations WHERE id = ?', [m.id]);
      if (seen) return false;
      for (const s of m.byDialect?.[db.dialect] ?? m.statements) await tx.run(renderSql(s, db.dialect));
      await tx.run('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)', [
        m.id,
        new Date().toISOString(),
      ]);
      return true;
    });
    if (done) applied.push(m.id);
  }
  return applied;
}

/** Several processes may start at once against one PostgreSQL: only one migrates at a time.
 * (SQLite's BEGIN IMMEDIATE already serializes writers.) */
async function lockMigrations(tx: SqlExecutor): Promise<void> {
  if (tx.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock(727274001)');
}
