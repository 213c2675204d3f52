import type { SqlParam } from './sql-database.js';

/**
 * Builds `WHERE a = ? AND b = ?` from the filters that are set (undefined ones are left out), so
 * list queries with optional filters are written once. Column names come from code, never input.
 */
export function whereEquals(filters: Record<string, SqlParam | undefined>): {
  sql: string;
  params: SqlParam[];
} {
  const set = Object.entries(filters).filter((e): e is [string, SqlParam] => e[1] !== undefined);
  return {
    sql: set.length ? `WHERE ${set.map(([column]) => `${column} = ?`).join(' AND ')}` : '',
    params: set.map(([, value]) => value),
  };
}
