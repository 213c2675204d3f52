import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../storage/migrations.js';
import { PostgresDatabase } from '../storage/postgres-database.js';
import { MIGRATIONS } from '../storage/schema.js';

/**
 * Real PostgreSQL for tests. Each test gets a fresh, migrated database in milliseconds by copying
 * a template database (CREATE DATABASE ... TEMPLATE), migrated once per schema version.
 *
 * Where PostgreSQL is not running, suites skip with a message; with SWITCHYARD_REQUIRE_PG=1 (CI)
 * they fail instead, so a broken CI service can never pass as "skipped".
 */
export const PG_URL =
  process.env.SWITCHYARD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REQUIRED = process.env.SWITCHYARD_REQUIRE_PG === '1';

const TEMPLATE = `sy_template_${createHash('sha256')
  .update(JSON.stringify(MIGRATIONS))
  .digest('hex')
  .slice(0, 12)}`;

function urlFor(database: string): string {
  const u = new URL(PG_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

async function adminQuery<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Resolves to whether the PostgreSQL suites run; throws when required but unreachable. */
export async function postgresAvailable(): Promise<boolean> {
  try {
    await adminQuery('SELECT 1');
    return true;
  } catch (e) {
    if (REQUIRED) {
      throw new Error(
        `SWITCHYARD_REQUIRE_PG=1 but PostgreSQL at ${PG_URL} is unreachable: ${(e as Error).message}`,
      );
    }
    console.warn(
      `[skip] PostgreSQL suites skipped: nothing answers at ${PG_URL} (${(e as Error).message}). ` +
        'Start PostgreSQL or set SWITCHYARD_TEST_DATABASE_URL; CI sets SWITCHYARD_REQUIRE_PG=1.',
    );
    return false;
  }
}

async function ensureTemplate(): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    // Test files run in parallel workers: one builds the template, the others wait.
    await client.query('SELECT pg_advisory_lock(727274002)');
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [TEMPLATE]);
    if (exists.rowCount === 0) {
      await client.query(`CREATE DATABASE ${TEMPLATE}`);
      const db = new PostgresDatabase({ url: urlFor(TEMPLATE), maxConnections: 1 });
      try {
        await migrate(db, MIGRATIONS);
      } finally {
        await db.close();
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(727274002)').catch(() => {});
    await client.end();
  }
}

/** A new migrated database; returns its URL and a function that drops it. */
export async function freshPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  await ensureTemplate();
  const name = `sy_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
  return {
    url: urlFor(name),
    drop: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** A connected adapter on a fresh database, and its cleanup: what every PostgreSQL contract run needs. */
export async function openFreshPostgres(
  maxConnections = 10,
): Promise<{ db: PostgresDatabase; cleanup: () => Promise<void> }> {
  const fresh = await freshPostgresDatabase();
  const db = new PostgresDatabase({ url: fresh.url, maxConnections });
  return {
    db,
    cleanup: async () => {
      await db.close();
      await fresh.drop();
    },
  };
}
