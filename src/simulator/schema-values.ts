/**
 * A seeded generator of values that satisfy a JSON Schema: the arguments a simulated model puts
 * in a tool call and the JSON it answers in JSON mode. It interprets the schema directly (no
 * compilation), so it is cheap on the request path.
 *
 * Supported: type (incl. type lists), enum, const, properties/required/additionalProperties,
 * items/prefixItems, min/maxItems, uniqueItems, minimum/maximum/exclusive*, multipleOf,
 * min/maxLength, formats (date, date-time, time, email, uri, uuid, ipv4, ipv6, hostname),
 * anyOf/oneOf (first non-null branch), allOf (merged), local $ref. Not supported: `pattern` is
 * not solved (strings are checked against it and a few candidates tried), `not`, if/then/else,
 * dependent schemas.
 *
 * Values come from the user's message where a parameter name matches (see hints.ts) and from
 * the seeded PRNG otherwise, so the same request always gets the same arguments.
 */
import { containsPhrase, EMPTY_HINTS, type Hints, isStopWord, mentionIndex, nameWords } from './hints.js';
import type { Rng } from './prng.js';

export type JsonSchema = boolean | { [keyword: string]: unknown };
type SchemaObject = { [keyword: string]: unknown };

interface GenContext {
  rng: Rng;
  hints: Hints;
  /** Whether to take values from the hints; off for a deliberately wrong call. */
  useHints: boolean;
  root: JsonSchema;
  depth: number;
  usedNumbers: Set<number>;
  usedQuoted: Set<number>;
  usedCapitalised: Set<number>;
}

const MAX_DEPTH = 8;

export interface GenerateOptions {
  hints?: Hints;
  useHints?: boolean;
}

/** A value valid against `schema` (within the supported keywords). */
export function generateValue(schema: JsonSchema, rng: Rng, options: GenerateOptions = {}): unknown {
  const ctx: GenContext = {
    rng,
    hints: options.hints ?? EMPTY_HINTS,
    useHints: options.useHints ?? true,
    root: schema,
    depth: 0,
    usedNumbers: new Set(),
    usedQuoted: new Set(),
    usedCapitalised: new Set(),
  };
  return gen(schema, '', ctx);
}

/** Arguments for a tool: always an object, even for a schema that does not say so. */
export function generateArguments(schema: JsonSchema, rng: Rng, options: GenerateOptions = {}) {
  const value = generateValue(schema, rng, options);
  return isObject(value) ? value : {};
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resolveRef(ref: string, ctx: GenContext): JsonSchema {
  if (ref === '#') return ctx.root;
  if (!ref.startsWith('#/') || typeof ctx.root !== 'object') return {};
  let node: unknown = ctx.root;
  for (const raw of ref.slice(2).split('/')) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    node = isObject(node) ? node[part] : undefined;
  }
  return isObject(node) || typeof node === 'boolean' ? node : {};
}

/** allOf merged into one schema: enough for the common "base + extension" use. */
function mergeAllOf(schema: SchemaObject, ctx: GenContext): SchemaObject {
  const out: SchemaObject = { ...schema };
  delete out.allOf;
  for (const part of schema.allOf as JsonSchema[]) {
    const sub = normalise(part, ctx);
    if (typeof sub !== 'object') continue;
    for (const [key, value] of Object.entries(sub)) {
      if (key === 'properties' && isObject(out.properties) && isObject(value)) {
        out.properties = { ...out.properties, ...value };
      } else if (key === 'required' && Array.isArray(out.required) && Array.isArray(value)) {
        out.required = [...new Set([...out.required, ...value])];
      } else if (!(key in out)) {
        out[key] = value;
      }
    }
  }
  return out;
}

function normalise(schema: JsonSchema, ctx: GenContext): JsonSchema {
  let current = schema;
  for (let hops = 0; typeof current === 'object' && typeof current.$ref === 'string' && hops < 16; hops++) {
    const { $ref, ...rest } = current;
    const target = resolveRef($ref as string, ctx);
    current = typeof target === 'object' ? { ...target, ...rest } : target;
  }
  if (typeof current === 'object' && Array.isArray(current.allOf)) current = mergeAllOf(current, ctx);
  return current;
}

function pickType(schema: SchemaObject): string {
  const type = schema.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) {
    const first = type.find((t) => t !== 'null') ?? type[0];
    return typeof first === 'string' ? first : 'string';
  }
  if (isObject(schema.properties) || schema.required || schema.additionalProperties) return 'object';
  if (schema.items || schema.prefixItems) return 'array';
  if ('minimum' in schema || 'maximum' in schema || 'multipleOf' in schema) return 'number';
  return 'string';
}

function gen(raw: JsonSchema, name: string, ctx: GenContext): unknown {
  const schema = normalise(raw, ctx);
  if (schema === false) return null;
  if (schema === true) return genString({}, name, ctx);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return genEnum(schema, schema.enum, ctx);
  const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(branches) && branches.length > 0) {
    const { anyOf: _a, oneOf: _o, ...base } = schema;
    const branch = branches.find((b) => !(typeof b === 'object' && b.type === 'null')) ?? branches[0] ?? {};
    return gen(typeof branch === 'object' ? { ...base, ...branch } : branch, name, ctx);
  }
  if (ctx.depth > MAX_DEPTH) return minimalValue(pickType(schema));
  switch (pickType(schema)) {
    case 'object':
      return genObject(schema, ctx);
    case 'array':
      return genArray(schema, name, ctx);
    case 'integer':
      return genNumber(schema, name, ctx, true);
    case 'number':
      return genNumber(schema, name, ctx, false);
    case 'boolean':
      return genBoolean(schema, name, ctx);
    case 'null':
      return null;
    default:
      return genString(schema, name, ctx);
  }
}

function minimalValue(type: string): unknown {
  switch (type) {
    case 'object':
      return {};
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return '';
  }
}

function genEnum(schema: SchemaObject, values: unknown[], ctx: GenContext): unknown {
  if (ctx.useHints) {
    // The longest enum value the user wrote wins ("comfort" in "a comfort ride").
    let best: unknown;
    let bestLength = 0;
    for (const value of values) {
      const text = String(value).toLowerCase();
      if (text.length > bestLength && text.length > 1 && containsPhrase(ctx.hints, text)) {
        best = value;
        bestLength = text.length;
      }
    }
    if (bestLength > 0) return best;
    if ('default' in schema && values.includes(schema.default)) return schema.default;
  }
  return ctx.rng.pick(values);
}

function genObject(schema: SchemaObject, ctx: GenContext): Record<string, unknown> {
  const properties = isObject(schema.properties) ? (schema.properties as Record<string, JsonSchema>) : {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const out: Record<string, unknown> = {};
  ctx.depth++;
  for (const [key, sub] of Object.entries(properties)) {
    // Optional parameters appear when the user mentioned them, as a model would fill them.
    if (required.has(key) || (ctx.useHints && mentioned(key, sub, ctx))) {
      out[key] = gen(sub, key, ctx);
    }
  }
  for (const key of required) {
    if (key in out) continue;
    const extra = schema.additionalProperties;
    out[key] = gen(isObject(extra) ? extra : {}, key, ctx);
  }
  const minProperties = typeof schema.minProperties === 'number' ? schema.minProperties : 0;
  const extra = schema.additionalProperties;
  for (let i = 0; Object.keys(out).length < minProperties && i < 100; i++) {
    const key = Object.keys(properties).find((k) => !(k in out)) ?? `field_${i + 1}`;
    out[key] = gen(properties[key] ?? (isObject(extra) ? extra : {}), key, ctx);
  }
  ctx.depth--;
  return out;
}

/** The user named the parameter, or wrote one of its enum values ("in celsius" -> unit). */
function mentioned(key: string, schema: JsonSchema, ctx: GenContext): boolean {
  if (mentionIndex(ctx.hints, key) !== -1) return true;
  const resolved = normalise(schema, ctx);
  const values = typeof resolved === 'object' && Array.isArray(resolved.enum) ? resolved.enum : undefined;
  return (
    values?.some(
      (v) => typeof v === 'string' && v.length > 1 && containsPhrase(ctx.hints, v.toLowerCase()),
    ) ?? false
  );
}

function genArray(schema: SchemaObject, name: string, ctx: GenContext): unknown[] {
  const prefix = Array.isArray(schema.prefixItems)
    ? (schema.prefixItems as JsonSchema[])
    : Array.isArray(schema.items)
      ? (schema.items as JsonSchema[])
      : [];
  const itemSchema: JsonSchema =
    isObject(schema.items) || typeof schema.items === 'boolean' ? schema.items : {};
  const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
  const max = typeof schema.maxItems === 'number' ? schema.maxItems : Number.POSITIVE_INFINITY;
  const listHint = ctx.useHints ? listFromHints(itemSchema, ctx) : undefined;
  let count = listHint?.length ?? Math.max(prefix.length, 1 + ctx.rng.int(0, 1));
  count = Math.min(Math.max(count, min, prefix.length), max);
  const out: unknown[] = [];
  ctx.depth++;
  for (let i = 0; i < count; i++) {
    const sub = prefix[i] ?? itemSchema;
    const hinted = listHint?.[i];
    let value = hinted !== undefined && i >= prefix.length ? hinted : gen(sub, singular(name), ctx);
    if (schema.uniqueItems === true) {
      const seen = new Set(out.map((v) => JSON.stringify(v)));
      for (let tries = 0; seen.has(JSON.stringify(value)) && tries < 20; tries++) {
        value = gen(sub, `${singular(name)}${i}`, { ...ctx, useHints: false });
      }
      if (seen.has(JSON.stringify(value))) break; // cannot make it unique: stop short (>= minItems usually)
    }
    out.push(value);
  }
  ctx.depth--;
  return out;
}

function singular(name: string): string {
  return name.endsWith('s') ? name.slice(0, -1) : name;
}

/**
 * A list the user wrote out: the enum values mentioned, quoted strings for string items, all
 * numbers for numeric items.
 */
function listFromHints(items: JsonSchema, ctx: GenContext): unknown[] | undefined {
  if (typeof items !== 'object') return undefined;
  if (Array.isArray(items.enum)) {
    const named = items.enum.filter(
      (v) => typeof v === 'string' && v.length > 1 && containsPhrase(ctx.hints, v.toLowerCase()),
    );
    return named.length > 0 ? named : undefined;
  }
  const type = pickType(items);
  if (type === 'string' && !items.format && ctx.hints.quoted.length > 1) {
    return ctx.hints.quoted.filter((q) => fitsString(items, q));
  }
  if ((type === 'number' || type === 'integer') && ctx.hints.numbers.length > 1) {
    const values = ctx.hints.numbers
      .map((n) => n.value)
      .filter((v) => fitsNumber(items, v, type === 'integer'));
    return values.length > 1 ? values : undefined;
  }
  return undefined;
}

function fitsNumber(schema: SchemaObject, value: number, integer: boolean): boolean {
  if (integer && !Number.isInteger(value)) return false;
  if (typeof schema.minimum === 'number' && value < schema.minimum) return false;
  if (typeof schema.maximum === 'number' && value > schema.maximum) return false;
  if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) return false;
  if (typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum) return false;
  if (typeof schema.multipleOf === 'number' && schema.multipleOf > 0) {
    const q = value / schema.multipleOf;
    if (Math.abs(q - Math.round(q)) > 1e-9) return false;
  }
  return true;
}

function numberFromHints(schema: SchemaObject, name: string, ctx: GenContext, integer: boolean) {
  const numbers = ctx.hints.numbers;
  const fits = (i: number) => {
    const n = numbers[i];
    return n !== undefined && !ctx.usedNumbers.has(i) && fitsNumber(schema, n.value, integer);
  };
  // Prefer the number right after the parameter's name ("height of 5"), else the next unused one.
  const at = name ? mentionIndex(ctx.hints, name) : -1;
  let chosen = -1;
  if (at !== -1) chosen = numbers.findIndex((n, i) => n.index > at && n.index - at < 60 && fits(i));
  if (chosen === -1) chosen = numbers.findIndex((_, i) => fits(i));
  if (chosen === -1) return undefined;
  ctx.usedNumbers.add(chosen);
  return numbers[chosen]?.value;
}

function genNumber(schema: SchemaObject, name: string, ctx: GenContext, integer: boolean): number {
  if (ctx.useHints) {
    const hinted = numberFromHints(schema, name, ctx, integer);
    if (hinted !== undefined) return hinted;
    if (typeof schema.default === 'number' && fitsNumber(schema, schema.default, integer))
      return schema.default;
  }
  let lo = typeof schema.minimum === 'number' ? schema.minimum : undefined;
  let hi = typeof schema.maximum === 'number' ? schema.maximum : undefined;
  const step = integer ? 1 : 0.01;
  if (typeof schema.exclusiveMinimum === 'number')
    lo = Math.max(lo ?? -Infinity, schema.exclusiveMinimum + step);
  if (typeof schema.exclusiveMaximum === 'number')
    hi = Math.min(hi ?? Infinity, schema.exclusiveMaximum - step);
  lo ??= hi !== undefined ? Math.min(1, hi) : 1;
  hi ??= Math.max(lo, 100) + (lo >= 100 ? 100 : 0);
  if (integer) {
    lo = Math.ceil(lo);
    hi = Math.floor(hi);
  }
  const multipleOf =
    typeof schema.multipleOf === 'number' && schema.multipleOf > 0 ? schema.multipleOf : undefined;
  if (multipleOf) {
    const k = ctx.rng.int(
      Math.ceil(lo / multipleOf),
      Math.max(Math.ceil(lo / multipleOf), Math.floor(hi / multipleOf)),
    );
    return Number((k * multipleOf).toFixed(10));
  }
  if (integer) return ctx.rng.int(lo, hi);
  return Math.min(hi, Math.max(lo, Math.round((lo + ctx.rng.next() * (hi - lo)) * 100) / 100));
}

function genBoolean(schema: SchemaObject, name: string, ctx: GenContext): boolean {
  if (ctx.useHints) {
    if (name && mentionIndex(ctx.hints, name) !== -1) return true;
    if (typeof schema.default === 'boolean') return schema.default;
    return false;
  }
  return ctx.rng.chance(0.5);
}

const ALPHA = 'abcdefghijklmnopqrstuvwxyz';

function isoDate(ctx: GenContext): string {
  const day = ctx.rng.int(0, 364);
  return new Date(Date.UTC(2026, 0, 1) + day * 86_400_000).toISOString().slice(0, 10);
}

function genFormat(format: string, name: string, ctx: GenContext): string | undefined {
  switch (format) {
    case 'date':
      return (ctx.useHints ? ctx.hints.dates[0] : undefined) ?? isoDate(ctx);
    case 'date-time':
      return `${(ctx.useHints ? ctx.hints.dates[0] : undefined) ?? isoDate(ctx)}T${String(ctx.rng.int(8, 18)).padStart(2, '0')}:00:00Z`;
    case 'time':
      return `${String(ctx.rng.int(8, 18)).padStart(2, '0')}:${String(ctx.rng.int(0, 3) * 15).padStart(2, '0')}:00Z`;
    case 'email':
    case 'idn-email':
      return `${nameWords(name).join('.') || 'user'}${ctx.rng.int(1, 99)}@example.com`;
    case 'uri':
    case 'url':
    case 'iri':
      return `https://example.com/${nameWords(name).join('-') || 'resource'}/${ctx.rng.int(1, 999)}`;
    case 'uri-reference':
      return `/${nameWords(name).join('-') || 'resource'}/${ctx.rng.int(1, 999)}`;
    case 'uuid': {
      const hex = () => ctx.rng.nextUint32().toString(16).padStart(8, '0');
      const h = hex() + hex() + hex() + hex();
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
    }
    case 'ipv4':
      return `10.${ctx.rng.int(0, 255)}.${ctx.rng.int(0, 255)}.${ctx.rng.int(1, 254)}`;
    case 'ipv6':
      return `fd00::${ctx.rng.int(1, 65535).toString(16)}`;
    case 'hostname':
    case 'idn-hostname':
      return `${nameWords(name).join('-') || 'host'}${ctx.rng.int(1, 99)}.example.com`;
    default:
      return undefined;
  }
}

const PLACE_NAMES =
  /(location|city|place|destination|origin|address|country|region|state|venue|town|area|loc)$/;
const PROPER_NAMES =
  /(name|title|artist|author|company|team|player|person|brand|movie|song|book|user|owner)$/;
const FREE_TEXT =
  /(query|search|keyword|text|message|prompt|content|question|description|comment|note|topic)s?$/;

function stringFromHints(schema: SchemaObject, name: string, ctx: GenContext): string | undefined {
  const words = nameWords(name);
  const joined = words.join('_');
  const take = (list: string[], used: Set<number>, re?: RegExp) => {
    const i = list.findIndex((v, idx) => !used.has(idx) && (!re || re.test(v)) && fitsString(schema, v));
    if (i === -1) return undefined;
    used.add(i);
    return list[i];
  };
  if (/(^|_)(date|day)$/.test(joined) && ctx.hints.dates[0]) return ctx.hints.dates[0];
  const quoted = take(ctx.hints.quoted, ctx.usedQuoted);
  if (quoted !== undefined) return quoted;
  if (PLACE_NAMES.test(joined) || PROPER_NAMES.test(joined)) {
    const proper = take(ctx.hints.capitalised, ctx.usedCapitalised);
    if (proper !== undefined) return proper;
  }
  if (FREE_TEXT.test(joined)) {
    const phrase = ctx.hints.text.replace(/\s+/g, ' ').trim().slice(0, 120);
    if (phrase && fitsString(schema, phrase)) return phrase;
  }
  // The word written right after the parameter's name ("the ID 7890", "color red").
  const at = name ? mentionIndex(ctx.hints, name) : -1;
  if (at !== -1) {
    const after = ctx.hints.text
      .slice(at)
      .match(/^[\p{L}\p{N}_-]+[\s:=]+(?:(?:is|of|as|to)\s+)?([\p{L}\p{N}][\p{L}\p{N}_./-]*)/u);
    const word = after?.[1];
    if (word && !isStopWord(word.toLowerCase()) && fitsString(schema, word)) return word;
  }
  return undefined;
}

function fitsString(schema: SchemaObject, value: string): boolean {
  const length = [...value].length;
  if (typeof schema.minLength === 'number' && length < schema.minLength) return false;
  if (typeof schema.maxLength === 'number' && length > schema.maxLength) return false;
  if (typeof schema.pattern === 'string') {
    const re = patternRegExp(schema.pattern);
    if (!re?.test(value)) return false;
  }
  return true;
}

// Patterns compiled once each: tool schemas repeat across requests. Bounded, as schemas are input.
const patterns = new Map<string, RegExp | null>();

function patternRegExp(pattern: string): RegExp | null {
  let re = patterns.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern, 'u');
    } catch {
      re = null;
    }
    if (patterns.size > 1000) patterns.clear();
    patterns.set(pattern, re);
  }
  return re;
}

function genString(schema: SchemaObject, name: string, ctx: GenContext): string {
  const format = typeof schema.format === 'string' ? schema.format : undefined;
  const formatted = format ? genFormat(format, name, ctx) : undefined;
  if (formatted !== undefined) return formatted;
  const candidates: string[] = [];
  if (ctx.useHints) {
    const hinted = stringFromHints(schema, name, ctx);
    if (hinted !== undefined) return hinted;
    if (typeof schema.default === 'string') candidates.push(schema.default);
  }
  const words = nameWords(name);
  const base = words.length > 0 ? words.join(' ') : 'value';
  candidates.push(`${base} ${ALPHA[ctx.rng.int(0, 25)]}${ctx.rng.int(1, 99)}`, base, 'x');
  for (const candidate of candidates) {
    if (fitsString(schema, candidate)) return candidate;
  }
  // Length constraints are solvable; a pattern we could not meet is left unmet (documented).
  let value = candidates[0] ?? 'value';
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Number.POSITIVE_INFINITY;
  while ([...value].length < min) value += ALPHA[ctx.rng.int(0, 25)];
  return [...value].slice(0, max).join('');
}
