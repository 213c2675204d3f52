import type { ErrorObject } from 'ajv';
import { describeValue, escapePointerToken, isPlainObject, pointerTokens, valueAt } from './json-shape.js';

/**
 * One way a value breaks its contract, in terms an agent (or a person) can act on: where
 * (a JSON pointer into the arguments, "" is the root), which JSON Schema keyword failed, what
 * the contract expects there and what came.
 */
export interface Violation {
  path: string;
  keyword: string;
  expected: string;
  got: string;
}

/** Cap on violations per value: a wholly wrong object would otherwise list every property. */
export const MAX_VIOLATIONS = 20;

/** The subschema at an ajv schemaPath (`#/properties/a/anyOf`), when it lives in `root`. */
function schemaAt(root: unknown, schemaPath: string): unknown {
  if (!schemaPath.startsWith('#')) return undefined;
  return valueAt(root, schemaPath.slice(1));
}

function parentSchemaPath(schemaPath: string): string {
  const i = schemaPath.lastIndexOf('/');
  return i > 0 ? schemaPath.slice(0, i) : '#';
}

/** A short description of a schema branch: its type, enum or const. */
function describeSchema(schema: unknown): string {
  if (!isPlainObject(schema)) return 'any value';
  if (Array.isArray(schema.enum)) return `one of ${JSON.stringify(schema.enum)}`;
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.type)) return schema.type.join(' or ');
  if (typeof schema.type === 'string') return schema.type;
  if (typeof schema.$ref === 'string') return `a ${schema.$ref.split('/').pop() ?? 'referenced'} value`;
  return 'a value of the allowed form';
}

function expectedFor(e: ErrorObject, rootSchema: unknown): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type':
      return Array.isArray(p.type) ? p.type.join(' or ') : String(p.type);
    case 'required':
      return 'a value (required property)';
    case 'additionalProperties': {
      const parent = schemaAt(rootSchema, parentSchemaPath(e.schemaPath));
      const names =
        isPlainObject(parent) && isPlainObject(parent.properties) ? Object.keys(parent.properties) : [];
      return names.length > 0 ? `no such property (allowed: ${names.join(', ')})` : 'no such property';
    }
    case 'enum':
      return `one of ${JSON.stringify(p.allowedValues)}`;
    case 'const':
      return JSON.stringify(p.allowedValue);
    case 'format':
      return `a string in format "${String(p.format)}"`;
    case 'pattern':
      return `a string matching /${String(p.pattern)}/`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `a number ${String(p.comparison)} ${String(p.limit)}`;
    case 'anyOf':
    case 'oneOf': {
      const branches = schemaAt(rootSchema, e.schemaPath);
      const forms = Array.isArray(branches) ? branches.map(describeSchema) : [];
      const which = e.keyword === 'oneOf' && p.passingSchemas ? 'exactly one of' : 'one of';
      return forms.length > 0 ? `${which}: ${forms.join(' | ')}` : `${which} the allowed forms`;
    }
    default:
      // minLength, maxItems, uniqueItems...: ajv's message ("must NOT have more than 3 items")
      // already says what is expected; drop the leading "must".
      return (e.message ?? e.keyword).replace(/^must /, '');
  }
}

/**
 * Converts ajv errors into violations. Errors under an `anyOf`/`oneOf` branch are folded into
 * the one `anyOf` line (the branch errors contradict each other and would mislead an agent);
 * the `if` summary is dropped because its `then`/`else` errors say what is wrong.
 */
export function toViolations(
  errors: readonly ErrorObject[] | null | undefined,
  data: unknown,
  rootSchema: unknown,
  limit = MAX_VIOLATIONS,
): Violation[] {
  const list = errors ?? [];
  const folded = list
    .filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')
    .map((e) => `${e.schemaPath}/`);
  const out: Violation[] = [];
  const seen = new Set<string>();
  for (const e of list) {
    if (out.length >= limit) break;
    if (e.keyword === 'if') continue;
    if (folded.some((prefix) => e.schemaPath.startsWith(prefix))) continue;
    const p = e.params as Record<string, unknown>;
    let path = e.instancePath;
    if (e.keyword === 'required' && typeof p.missingProperty === 'string') {
      path = `${path}/${escapePointerToken(p.missingProperty)}`;
    } else if (e.keyword === 'additionalProperties' && typeof p.additionalProperty === 'string') {
      path = `${path}/${escapePointerToken(p.additionalProperty)}`;
    }
    const key = `${path}\u0000${e.keyword}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      path,
      keyword: e.keyword,
      expected: expectedFor(e, rootSchema),
      got: e.keyword === 'required' ? 'missing' : describeValue(valueAt(data, path)),
    });
  }
  return out;
}

/** The last reference token of a violation's path (the argument name), or "" for the root. */
export function violationKey(v: Violation): string {
  const tokens = pointerTokens(v.path);
  return tokens[tokens.length - 1] ?? '';
}
