import pg from 'pg';
import {
  type SqlDatabase,
  type SqlExecutor,
  type SqlParam,
  type TransactionOptions,
  UniqueViolation,
} from './sql-database.js';

// int8 (COUNT, BIGINT columns) arrives as a string by default; our values fit in a double.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

const converted = new Map<string, string>();
/** Rewrites `?` placeholders to `$1..$n`. Our SQL has no `?` inside string literals. */
export function toPositional(sql: string): string {
  let out = converted.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    converted.set(sql, out);
  }
  return out;
}

function translate(e: unknown): unknown {
  return (e as { code?: string }).code === '23505' ? new UniqueViolation(e) : e;
}

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

class PgExecutor implements SqlExecutor {
  readonly dialect = 'postgres' as const;
  constructor(private readonly q: Queryable) {}
  async all<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    try {
      const r = await this.q.query(toPositional(sql), params as SqlParam[]);
      return r.rows as T[];
    } catch (e) {
      throw translate(e);
    }
  }
  async get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }
  async run(sql: string, params: readonly SqlParam[] = []): Promise<{ changes: number }> {
    try {
      const r = await this.q.query(toPositional(sql), params as SqlParam[]);
      return { changes: r.rowCount ?? 0 };
    } catch (e) {
      throw translate(e);
    }
  }
}

export interface PostgresOptions {
  url: string;
  maxConnections?: number;
  /** Fail fast when the server is unreachable instead of hanging a request. */
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
}

/** The scaled backend: a pooled connection to PostgreSQL shared by every process. */
export class PostgresDatabase implements SqlDatabase {
  readonly dialect = 'postgres' as const;
  readonly pool: pg.Pool;
  private readonly exec: PgExecutor;

  constructor(opts: PostgresOptions) {
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.maxConnections ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      statement_timeout: opts.statementTimeoutMs ?? 30_000,
    });
    // An idle client losing its connection (server restart) must not crash the process.
    this.pool.on('error', () => {});
    this.exec = new PgExecutor(this.pool);
  }

  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    return this.exec.all<T>(sql, params);
  }
  get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined> {
    return this.exec.get<T>(sql, params);
  }
  run(sql: string, params?: readonly SqlParam[]): Promise<{ changes: number }> {
    return this.exec.run(sql, params);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    const client = await this.pool.connect();
    // The pool stops listening for a client's errors while it is checked out: a connection lost
    // between two statements (a database restart, a network cut) would otherwise be an uncaught
    // 'error' event and end the process. The transaction fails instead, and the client is discarded.
    let lost: Error | undefined;
    const onError = (err: Error) => {
      lost = err;
    };
    client.on('error', onError);
    try {
      const mode = [
        `ISOLATION LEVEL ${(opts.isolation ?? 'read committed').toUpperCase()}`,
        opts.readOnly ? 'READ ONLY' : 'READ WRITE',
      ].join(' ');
      await client.query(`BEGIN ${mode}`);
      try {
        const result = await fn(new PgExecutor(client));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      }
    } finally {
      client.removeListener('error', onError);
      client.release(lost);
    }
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.get<{ ok: number }>('SELECT 1 AS ok'))?.ok === 1;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
