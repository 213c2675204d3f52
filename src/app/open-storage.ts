import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config/config-schema.js';
import { migrate } from '../storage/migrations.js';
import { PostgresDatabase } from '../storage/postgres-database.js';
import { MIGRATIONS } from '../storage/schema.js';
import type { SqlDatabase } from '../storage/sql-database.js';
import { SqliteDatabase } from '../storage/sqlite-database.js';

/** Opens the configured database and brings its schema up to date. */
export async function openStorage(config: Config): Promise<SqlDatabase> {
  let db: SqlDatabase;
  if (config.storage.driver === 'postgres') {
    db = new PostgresDatabase({
      url: config.storage.postgresUrl ?? '',
      maxConnections: config.storage.maxConnections,
    });
  } else {
    const path = config.storage.sqlitePath;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new SqliteDatabase(path);
  }
  try {
    await migrate(db, MIGRATIONS);
  } catch (e) {
    await db.close().catch(() => {});
    throw e;
  }
  return db;
}
