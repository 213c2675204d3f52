/**
 * Small helpers over parsed JSON values shared by validation, coercion and drift detection:
 * type names as JSON Schema spells them, JSON pointers (RFC 6901) and short value previews.
 */

/** A JSON value's type as JSON Schema names it; whole numbers are `integer`. */
export type JsonTypeName = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';

/** A JSON value's kind for drift: like JsonTypeName but every number is `number` (5 vs 5.5 is no drift). */
export type JsonKind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function jsonTypeOf(value: unknown): JsonTypeName {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'number';
    case 'string':
      return 'string';
    default:
      // undefined, functions, bigints... never come out of JSON.parse; `object` is the closest name.
      return 'object';
  }
}

export function jsonKindOf(value: unknown): JsonKind {
  const t = jsonTypeOf(value);
  return t === 'integer' ? 'number' : t;
}

/** Escapes one reference token of a JSON pointer (`~` -> `~0`, `/` -> `~1`). */
export function escapePointerToken(token: string | number): string {
  const s = String(token);
  return s.includes('~') || s.includes('/') ? s.replace(/~/g, '~0').replace(/\//g, '~1') : s;
}

export function childPointer(parent: string, token: string | number): string {
  return `${parent}/${escapePointerToken(token)}`;
}

export function pointerTokens(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The value at a JSON pointer, or undefined where the path does not exist. */
export function valueAt(root: unknown, pointer: string): unknown {
  let current: unknown = root;
  for (const token of pointerTokens(pointer)) {
    if (Array.isArray(current)) {
      current = /^(0|[1-9][0-9]*)$/.test(token) ? current[Number(token)] : undefined;
    } else if (isPlainObject(current)) {
      current = Object.hasOwn(current, token) ? current[token] : undefined;
    } else {
      return undefined;
    }
  }
  return current;
}

/** `string "42"`, `number 4.5`, `object {"a":1,...}`: what came, short enough for an error line. */
export function describeValue(value: unknown, max = 60): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value) ?? String(value);
  const shown = text.length > max ? `${text.slice(0, max - 3)}...` : text;
  return value === null ? 'null' : `${jsonTypeOf(value)} ${shown}`;
}

/** Structural equality of JSON values (key order ignored, -0 equals 0 as in JSON). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b) || !isPlainObject(a) || !isPlainObject(b)) return false;
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  for (const k of ak) if (!Object.hasOwn(b, k) || !jsonEqual(a[k], b[k])) return false;
  return true;
}

/** An object without a prototype: safe to index by model-chosen keys such as `__proto__`. */
export function dict<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}
