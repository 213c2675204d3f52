import type { ValidateFunction } from 'ajv';
import { childPointer, isPlainObject, valueAt } from './json-shape.js';
import { compileSchema } from './schema-compiler.js';
import { toViolations, type Violation } from './violations.js';

/**
 * Capped coercion: repairs only the minor, well-understood drifts in tool arguments, and only
 * where the schema says unambiguously what it wants:
 *   string_to_number / string_to_integer   "42" -> 42, only if String(number) gives the text back
 *                                          ("42abc", "", " 42", "1e400", "1.0", "0x10" stay)
 *   number_to_string                       94103 -> "94103"
 *   string_to_boolean                      "true" / "false" (exactly) -> true / false
 *   wrap_in_array                          v -> [v] where an array is wanted (once per level)
 * The walk follows `properties`, `additionalProperties` (a schema), `items` (one schema),
 * `allOf` and same-document `$ref`s, and stops below `anyOf`, `oneOf`, `not` and conditionals:
 * there the wanted type depends on which branch was meant, and guessing is how coercion would
 * start passing calls for the wrong reason. It never turns null into a value, never adds a
 * missing argument, never renames, never drops a property. The result is validated strictly
 * again; if it still fails, nothing is returned but the original violations.
 */

export type CoercionKind =
  | 'string_to_number'
  | 'string_to_integer'
  | 'number_to_string'
  | 'string_to_boolean'
  | 'wrap_in_array';

export interface AppliedCoercion {
  /** JSON pointer of the changed value, in the order applied (a wrap comes before its item). */
  path: string;
  kind: CoercionKind;
  from: unknown;
  to: unknown;
}

export type CoercionResult =
  | { status: 'valid'; arguments: unknown; coercions: [] }
  | { status: 'coerced'; before: unknown; after: unknown; coercions: AppliedCoercion[] }
  | { status: 'not_coercible'; before: unknown; violations: Violation[] };

type Schema = Record<string, unknown>;

const MAX_DEPTH = 32;
const MAX_REF_HOPS = 16;

/** Follows same-document `$ref`s (`#`, `#/definitions/x`, `#/$defs/x`); undefined when it cannot. */
function resolve(schema: unknown, root: Schema): Schema | undefined {
  let current = schema;
  for (let hops = 0; hops < MAX_REF_HOPS; hops++) {
    if (!isPlainObject(current)) return undefined;
    const ref = current.$ref;
    if (typeof ref !== 'string') return current;
    if (ref !== '#' && !ref.startsWith('#/')) return undefined;
    current = valueAt(root, ref.slice(1));
  }
  return undefined;
}

function typesOf(schema: Schema): readonly string[] | undefined {
  const t = schema.type;
  if (typeof t === 'string') return [t];
  return Array.isArray(t) ? (t.filter((x) => typeof x === 'string') as string[]) : undefined;
}

function matchesType(value: unknown, types: readonly string[]): boolean {
  for (const t of types) {
    switch (t) {
      case 'null':
        if (value === null) return true;
        break;
      case 'boolean':
        if (typeof value === 'boolean') return true;
        break;
      case 'integer':
        if (Number.isInteger(value)) return true;
        break;
      case 'number':
        if (typeof value === 'number') return true;
        break;
      case 'string':
        if (typeof value === 'string') return true;
        break;
      case 'array':
        if (Array.isArray(value)) return true;
        break;
      case 'object':
        if (isPlainObject(value)) return true;
        break;
    }
  }
  return false;
}

/** The number a string spells, if it spells exactly one: String(n) must give the text back. */
export function exactNumber(text: string): number | undefined {
  if (text === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) && String(n) === text ? n : undefined;
}

function coerceScalar(
  value: unknown,
  types: readonly string[],
): { to: unknown; kind: CoercionKind } | undefined {
  if (typeof value === 'string') {
    if (types.includes('integer') || types.includes('number')) {
      const n = exactNumber(value);
      if (n !== undefined && types.includes('integer') && Number.isInteger(n)) {
        return { to: n, kind: 'string_to_integer' };
      }
      if (n !== undefined && types.includes('number')) return { to: n, kind: 'string_to_number' };
    }
    if (types.includes('boolean') && (value === 'true' || value === 'false')) {
      return { to: value === 'true', kind: 'string_to_boolean' };
    }
    return undefined;
  }
  if (typeof value === 'number' && types.includes('string'))
    return { to: String(value), kind: 'number_to_string' };
  return undefined;
}

interface Walk {
  root: Schema;
  log: AppliedCoercion[];
}

/** Returns the value with coercions applied (a new object/array only where something changed). */
function walk(
  value: unknown,
  schemaIn: unknown,
  path: string,
  w: Walk,
  depth: number,
  mayWrap: boolean,
): unknown {
  if (depth > MAX_DEPTH || value === null) return value;
  const schema = resolve(schemaIn, w.root);
  if (!schema) return value;
  let out: unknown = value;
  const types = typesOf(schema);
  if (types && !matchesType(out, types)) {
    const scalar = coerceScalar(out, types);
    if (scalar) {
      w.log.push({ path, kind: scalar.kind, from: out, to: scalar.to });
      out = scalar.to;
    } else if (mayWrap && types.includes('array') && !Array.isArray(out)) {
      w.log.push({ path, kind: 'wrap_in_array', from: out, to: [out] });
      // The wrapped value is checked against `items` like any element, but is never wrapped again.
      // The log stays a replayable sequence of steps: the wrap first, then its item's own coercion.
      return [walk(out, schema.items, childPointer(path, 0), w, depth + 1, false)];
    }
  }
  if (isPlainObject(out)) out = walkObject(out, schema, path, w, depth);
  else if (Array.isArray(out) && isPlainObject(schema.items)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < out.length; i++) {
      const next = walk(out[i], schema.items, childPointer(path, i), w, depth + 1, true);
      if (next !== out[i]) {
        copy ??= [...out];
        copy[i] = next;
      }
    }
    if (copy) out = copy;
  }
  if (Array.isArray(schema.allOf)) {
    for (const branch of schema.allOf) out = walk(out, branch, path, w, depth + 1, mayWrap);
  }
  return out;
}

function walkObject(obj: Record<string, unknown>, schema: Schema, path: string, w: Walk, depth: number) {
  const props = isPlainObject(schema.properties) ? schema.properties : undefined;
  // With patternProperties the schema of an undeclared key depends on a regex match; leave those.
  const extra =
    isPlainObject(schema.additionalProperties) && schema.patternProperties === undefined
      ? schema.additionalProperties
      : undefined;
  if (!props && !extra) return obj;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(obj)) {
    const sub = props && Object.hasOwn(props, key) ? props[key] : extra;
    if (sub === undefined) continue;
    const next = walk(obj[key], sub, childPointer(path, key), w, depth + 1, true);
    if (next !== obj[key]) {
      copy ??= { ...obj };
      copy[key] = next;
    }
  }
  return copy ?? obj;
}

/**
 * Coerces tool arguments toward `schema`. `validate` is the compiled validator when the caller
 * has it (the request path does, from the contract cache); otherwise it is compiled (cached by
 * content hash). The input is never mutated.
 */
export function coerceArguments(
  schema: Record<string, unknown>,
  args: unknown,
  validate?: ValidateFunction,
): CoercionResult {
  const check = validate ?? compileSchema(schema, '/schema');
  if (check(args)) return { status: 'valid', arguments: args, coercions: [] };
  const violations = toViolations(check.errors, args, schema);
  const w: Walk = { root: schema, log: [] };
  const after = walk(args, schema, '', w, 0, false);
  if (w.log.length === 0 || !check(after)) return { status: 'not_coercible', before: args, violations };
  return { status: 'coerced', before: args, after, coercions: w.log };
}
