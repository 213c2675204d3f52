import { createHash } from 'node:crypto';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { type ErrorDetail, invalidInput } from '../shared/errors.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule.default;

/**
 * Compiles JSON Schemas (tool arguments, JSON output formats) once and caches the validator by
 * the schema's content hash, so the request path never compiles. Schemas that declare
 * draft 2020-12 get the 2020 engine; everything else (what OpenAI and Anthropic tool definitions
 * use in practice) is treated as draft-07.
 */
function makeAjv<T extends Ajv>(ctor: new (opts: object) => T): T {
  // strict: false accepts the vendor keywords real tool schemas carry; validateSchema still
  // rejects what the meta-schema forbids (an unknown `type`, a malformed `required`...).
  const ajv = new ctor({ strict: false, allErrors: true, validateSchema: true, validateFormats: true });
  addFormats(ajv);
  return ajv;
}

const draft07 = makeAjv(Ajv);
const draft2020 = makeAjv(Ajv2020 as unknown as new (opts: object) => Ajv);
const cache = new Map<string, ValidateFunction>();
/** Bounded: schemas come from tenants, and every distinct one ever seen must not stay forever. */
const CACHE_LIMIT = 10_000;

export function schemaHash(schema: unknown): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex');
}

/**
 * Turns ajv's errors into our details, with JSON pointers rooted at `base`. An `anyOf` failure
 * comes with one error per branch at the same path; those collapse into one line that says what
 * was allowed, which is what a person needs to fix it.
 */
export function ajvDetails(errors: ErrorObject[] | null | undefined, base: string): ErrorDetail[] {
  const list = errors ?? [];
  const anyOfPaths = new Set(list.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const out: ErrorDetail[] = [];
  for (const e of list) {
    const path = `${base}${e.instancePath || ''}`;
    if (anyOfPaths.has(e.instancePath)) {
      if (e.keyword !== 'anyOf') continue;
      const allowed = list.find((o) => o.instancePath === e.instancePath && o.keyword === 'enum')?.params as
        | { allowedValues?: unknown[] }
        | undefined;
      out.push({
        path,
        message: allowed?.allowedValues
          ? `must be one of ${JSON.stringify(allowed.allowedValues)}`
          : 'matches none of the allowed forms',
      });
      continue;
    }
    const params = e.params && Object.keys(e.params).length ? ` (${JSON.stringify(e.params)})` : '';
    out.push({ path, message: `${e.message ?? 'is invalid'}${params}` });
  }
  return out;
}

/**
 * Returns a compiled validator, or throws invalid_input naming what is wrong with the schema
 * and where (`where` is the JSON pointer of the schema in the caller's input).
 */
export function compileSchema(schema: unknown, where: string): ValidateFunction {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw invalidInput(`${where} must be a JSON Schema object`, [
      { path: where, message: 'must be an object' },
    ]);
  }
  const key = schemaHash(schema);
  const hit = cache.get(key);
  if (hit) return hit;
  const declared = (schema as { $schema?: unknown }).$schema;
  const ajv = typeof declared === 'string' && declared.includes('2020-12') ? draft2020 : draft07;
  if (!ajv.validateSchema(schema)) {
    throw invalidInput(
      `${where} is not a valid JSON Schema`,
      ajvDetails(ajv.errors, where),
      'Fix the schema so it satisfies the JSON Schema meta-schema (draft-07 unless $schema says 2020-12).',
    );
  }
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (e) {
    throw invalidInput(
      `${where} could not be compiled: ${(e as Error).message}`,
      [{ path: where, message: (e as Error).message }],
      'Check $ref targets and regular expressions in "pattern".',
    );
  }
  if (cache.size >= CACHE_LIMIT) {
    // Maps iterate in insertion order: drop the oldest entry.
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(key, validate);
  return validate;
}

/** Compiles a format contract's regular expression, or throws invalid_input. */
export function compileRegex(pattern: string, flags: string | undefined, where: string): RegExp {
  try {
    return new RegExp(pattern, flags ?? '');
  } catch (e) {
    throw invalidInput(`${where} is not a valid regular expression: ${(e as Error).message}`, [
      { path: where, message: (e as Error).message },
    ]);
  }
}
