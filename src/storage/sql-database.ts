/**
 * The storage port: a minimal SQL surface that both adapters (SQLite and PostgreSQL) provide.
 * Queries are written once in the common subset of the two dialects with `?` placeholders; the
 * PostgreSQL adapter rewrites them to `$n`. Stores never see a driver.
 */
export type SqlParam = string | number | null;
export type Dialect = 'sqlite' | 'postgres';

export interface SqlExecutor {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined>;
  run(sql: string, params?: readonly SqlParam[]): Promise<{ changes: number }>;
}

export interface TransactionOptions {
  /** PostgreSQL only; SQLite transactions are always serializable. */
  isolation?: 'read committed' | 'repeatable read' | 'serializable';
  /** Read-only work (consistent snapshot reads); lets SQLite use a deferred transaction. */
  readOnly?: boolean;
}

export interface SqlDatabase extends SqlExecutor {
  /** Runs `fn` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** A uniqueness constraint was violated (duplicate id); adapters translate driver errors to it. */
export class UniqueViolation extends Error {
  constructor(cause: unknown) {
    super('unique constraint violated', { cause });
    this.name = 'UniqueViolation';
  }
}
