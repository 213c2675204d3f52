import Database from 'better-sqlite3';
import { type SqlDatabase, type SqlExecutor, type SqlParam, UniqueViolation } from './sql-database.js';

/** Serializes access: better-sqlite3 is one synchronous connection, so an open transaction must
 * not see statements of other async callers interleaved between its awaits. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => {
      release = r;
    });
    const acquired = this.tail.then(() => release);
    this.tail = this.tail.then(() => next);
    return acquired;
  }
}

function translate(e: unknown): unknown {
  const code = (e as { code?: string }).code;
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
    return new UniqueViolation(e);
  }
  return e;
}

class SqliteExecutor implements SqlExecutor {
  readonly dialect = 'sqlite' as const;
  private readonly cache = new Map<string, Database.Statement>();
  constructor(private readonly db: Database.Database) {}

  private stmt(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }
  allSync<T>(sql: string, params: readonly SqlParam[] = []): T[] {
    try {
      return this.stmt(sql).all(...params) as T[];
    } catch (e) {
      throw translate(e);
    }
  }
  async all<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return this.allSync<T>(sql, params);
  }
  async get<T>(sql: string, params: readonly SqlParam[] = []): Promise<T | undefined> {
    try {
      return this.stmt(sql).get(...params) as T | undefined;
    } catch (e) {
      throw translate(e);
    }
  }
  async run(sql: string, params: readonly SqlParam[] = []): Promise<{ changes: number }> {
    try {
      const r = this.stmt(sql).run(...params);
      return { changes: r.changes };
    } catch (e) {
      throw translate(e);
    }
  }
}

/** The embedded default: one SQLite file (or `:memory:`), WAL mode so readers never block. */
export class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly exec: SqliteExecutor;
  private readonly mutex = new Mutex();

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    // Another process on the same file holding the write lock: wait rather than fail at once.
    this.db.pragma('busy_timeout = 5000');
    this.exec = new SqliteExecutor(this.db);
  }

  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.mutex.lock();
    try {
      return await fn();
    } finally {
      release();
    }
  }
  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    return this.locked(() => this.exec.all<T>(sql, params));
  }
  get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined> {
    return this.locked(() => this.exec.get<T>(sql, params));
  }
  run(sql: string, params?: readonly SqlParam[]): Promise<{ changes: number }> {
    return this.locked(() => this.exec.run(sql, params));
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, opts: { readOnly?: boolean } = {}): Promise<T> {
    return this.locked(async () => {
      // IMMEDIATE takes the write lock up front, so two processes sharing the file serialize
      // instead of failing with SQLITE_BUSY at commit time.
      this.db.exec(opts.readOnly ? 'BEGIN DEFERRED' : 'BEGIN IMMEDIATE');
      try {
        const result = await fn(this.exec);
        this.db.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  async ping(): Promise<boolean> {
    return (await this.get<{ ok: number }>('SELECT 1 AS ok'))?.ok === 1;
  }

  async close(): Promise<void> {
    await this.locked(async () => this.db.close());
  }
}
