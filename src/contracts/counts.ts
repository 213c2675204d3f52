import { dict } from './json-shape.js';

/**
 * Count maps (`key -> count`) as stored in drift statistics. Keys come from model output (tool
 * and argument names), so maps are prototype-free and every read checks own properties: a key
 * such as `__proto__` is counted like any other.
 */

export function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (Object.hasOwn(counts, key) ? (counts[key] ?? 0) : 0) + by;
}

export function countOf(counts: Record<string, number>, key: string): number {
  return Object.hasOwn(counts, key) ? (counts[key] ?? 0) : 0;
}

/** A record's own entry (never an inherited one such as `constructor`). */
export function own<V>(record: Record<string, V>, key: string): V | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A deep copy of parsed JSON in which every object is prototype-free, so later writes stay data. */
export function toDicts(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toDicts);
  if (typeof value !== 'object' || value === null) return value;
  const out = dict<unknown>();
  for (const [k, v] of Object.entries(value)) out[k] = toDicts(v);
  return out;
}

export function mergeCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = dict<number>();
  for (const [k, v] of Object.entries(a)) bump(out, k, v);
  for (const [k, v] of Object.entries(b)) bump(out, k, v);
  return out;
}

/** Union of two records, merging the values both have. */
export function mergeRecords<V>(
  a: Record<string, V>,
  b: Record<string, V>,
  merge: (x: V, y: V) => V,
): Record<string, V> {
  const out = dict<V>();
  for (const [k, v] of Object.entries(a)) out[k] = v;
  for (const [k, v] of Object.entries(b)) {
    const mine = Object.hasOwn(out, k) ? out[k] : undefined;
    out[k] = mine === undefined ? v : merge(mine, v);
  }
  return out;
}
