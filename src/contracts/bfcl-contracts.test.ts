import { beforeAll, describe, expect, it } from 'vitest';
import { renamedKey } from '../simulator/drift.js';
import { coerceArguments } from './coercion.js';
import { compareToolCalls, type DriftFinding } from './drift-compare.js';
import { isPlainObject } from './json-shape.js';
import {
  BFCL_DRIFTS,
  BFCL_KNOWN_INVALID,
  type BfclContractCase,
  type BfclVariant,
  bfclCleanCall,
  bfclSchemaOf,
  bfclTypeOf,
  loadBfclContractCases,
} from './test-support/contract-fixtures.js';
import { validateToolCall } from './tool-call-validator.js';

/**
 * The schema compatibility layer on real material: every BFCL v4 function definition of three
 * categories registered as a tenant's tool contracts, every accepted answer as the clean call,
 * and each drift the provider simulator plays generated from those real answers.
 */

let cases: BfclContractCase[] = [];
beforeAll(async () => {
  cases = (await loadBfclContractCases()).filter((c) => !BFCL_KNOWN_INVALID.has(c.bfclCase.id));
});

/** What validation must say about each drift. */
function validationMatches(kind: string, v: BfclVariant, c: BfclContractCase): boolean {
  const out = validateToolCall(c.contracts, v.call);
  if (out.valid) return false;
  switch (kind) {
    case 'other_tool':
      return out.kind === 'unknown_tool' && out.knownTools.includes(c.golden.toolName);
    case 'json_in_markdown':
      return out.kind === 'unparsable_arguments' && out.reason === 'json_in_markdown';
  }
  if (out.kind !== 'schema_violation') return false;
  const at = (path: string, keyword: string) =>
    out.violations.some((x) => x.path === path && x.keyword === keyword);
  switch (kind) {
    case 'number_as_string':
      return at(`/${v.key}`, 'type') && out.violations.every((x) => x.path === `/${v.key}`);
    case 'renamed_argument':
      return at(`/${renamedKey(v.key)}`, 'additionalProperties');
    case 'missing_required':
      return out.violations.length === 1 && at(`/${v.key}`, 'required');
    case 'extra_argument':
      return out.violations.length === 1 && at('/reasoning', 'additionalProperties');
  }
  return false;
}

/** What the shadow comparison against the clean call must find: exactly this, nothing else. */
function expectedFindings(kind: string, v: BfclVariant, c: BfclContractCase): Array<Partial<DriftFinding>> {
  const tool = c.golden.toolName;
  switch (kind) {
    case 'number_as_string':
      return [{ kind: 'type_changed', tool, path: `/${v.key}`, from: 'number', to: 'string' }];
    case 'renamed_argument':
      return [
        { kind: 'field_renamed', tool, path: `/${v.key}`, to: `/${renamedKey(v.key)}`, value: 'equal' },
      ];
    case 'missing_required':
      return [{ kind: 'field_missing', tool, path: `/${v.key}` }];
    case 'extra_argument':
      return [{ kind: 'field_added', tool, path: '/reasoning' }];
    case 'other_tool':
      return [{ kind: 'tool_changed', tool, to: 'unregistered_tool' }];
    default:
      return [{ kind: 'format_shift', tool, from: 'json', to: 'json_in_markdown' }];
  }
}

describe('BFCL function definitions as contracts', () => {
  it('accept every accepted answer (first accepted values), as OpenAI text and as Anthropic input', () => {
    const failures: string[] = [];
    for (const c of cases) {
      const text = validateToolCall(c.contracts, bfclCleanCall(c));
      const input = validateToolCall(c.contracts, { name: c.golden.toolName, input: c.golden.arguments });
      if (!text.valid || !input.valid) failures.push(`${c.bfclCase.id}: ${JSON.stringify(text)}`);
    }
    expect(failures).toEqual([]);
    expect(cases.length).toBeGreaterThan(800);
  });

  it.each(Object.keys(BFCL_DRIFTS))(
    'detect %s by validation and by comparison with the clean call',
    (kind) => {
      const make = BFCL_DRIFTS[kind];
      if (!make) throw new Error(kind);
      let applied = 0;
      const missed: string[] = [];
      for (const c of cases) {
        const v = make(c);
        if (!v) continue;
        applied++;
        if (!validationMatches(kind, v, c))
          missed.push(
            `${c.bfclCase.id} validation: ${JSON.stringify(validateToolCall(c.contracts, v.call))}`,
          );
        const found = compareToolCalls(bfclCleanCall(c), v.call);
        const wanted = expectedFindings(kind, v, c);
        if (
          found.length !== wanted.length ||
          !wanted.every((w, i) => expect.objectContaining(w).asymmetricMatch(found[i]))
        ) {
          missed.push(`${c.bfclCase.id} drift: ${JSON.stringify(found)}`);
        }
      }
      expect(missed).toEqual([]);
      expect(applied).toBeGreaterThan(kind === 'number_as_string' ? 300 : 150);
    },
  );
});

type Args = Record<string, unknown>;

describe('coercion on BFCL answers', () => {
  /** Drifts coercion may repair: each turns the clean arguments into a repairable variant. */
  const REPAIRABLE: Record<string, (c: BfclContractCase) => { args: Args; key: string } | undefined> = {
    number_as_string: (c) => {
      const v = BFCL_DRIFTS.number_as_string?.(c);
      return v?.args ? { args: v.args, key: v.key } : undefined;
    },
    boolean_as_string: (c) => {
      const key = Object.keys(c.golden.arguments).find((k) => typeof c.golden.arguments[k] === 'boolean');
      return key === undefined
        ? undefined
        : { args: { ...c.golden.arguments, [key]: String(c.golden.arguments[key]) }, key };
    },
    numeric_string_as_number: (c) => {
      const key = Object.keys(c.golden.arguments).find((k) => {
        const v = c.golden.arguments[k];
        return bfclTypeOf(c, k) === 'string' && typeof v === 'string' && v !== '' && String(Number(v)) === v;
      });
      return key === undefined
        ? undefined
        : { args: { ...c.golden.arguments, [key]: Number(c.golden.arguments[key]) }, key };
    },
    single_value_for_array: (c) => {
      const key = Object.keys(c.golden.arguments).find((k) => {
        const v = c.golden.arguments[k];
        return Array.isArray(v) && v.length === 1 && !Array.isArray(v[0]);
      });
      if (key === undefined) return undefined;
      const [only] = c.golden.arguments[key] as unknown[];
      return { args: { ...c.golden.arguments, [key]: only }, key };
    },
  };

  it.each(Object.keys(REPAIRABLE))('repairs %s back to the clean arguments, logging one coercion', (kind) => {
    const make = REPAIRABLE[kind];
    if (!make) throw new Error(kind);
    let applied = 0;
    const failures: string[] = [];
    for (const c of cases) {
      const drift = make(c);
      if (!drift) continue;
      applied++;
      const out = coerceArguments(bfclSchemaOf(c) as Record<string, unknown>, drift.args);
      const ok =
        out.status === 'coerced' &&
        JSON.stringify(out.after) === JSON.stringify(c.golden.arguments) &&
        out.coercions.length === 1 &&
        out.coercions[0]?.path === `/${drift.key}`;
      if (!ok) failures.push(`${c.bfclCase.id}: ${JSON.stringify(out)}`);
    }
    expect(failures).toEqual([]);
    expect(applied).toBeGreaterThan(kind === 'number_as_string' ? 300 : 5);
  });

  it('never repairs a missing required argument, a rename, an extra argument or a null', () => {
    const repaired: string[] = [];
    let tried = 0;
    for (const c of cases) {
      const schema = bfclSchemaOf(c) as Record<string, unknown>;
      const variants: Args[] = [];
      for (const kind of ['missing_required', 'renamed_argument', 'extra_argument']) {
        const v = BFCL_DRIFTS[kind]?.(c);
        if (v?.args) variants.push(v.args);
      }
      const key = Object.keys(c.golden.arguments)[0];
      if (key !== undefined && isPlainObject(c.golden.arguments))
        variants.push({ ...c.golden.arguments, [key]: null });
      for (const args of variants) {
        tried++;
        const out = coerceArguments(schema, args);
        // `valid` is fine: a schema of type "any" accepts null; only a repair would be wrong.
        if (out.status === 'coerced')
          repaired.push(`${c.bfclCase.id}: ${JSON.stringify(args)} -> ${out.status}`);
      }
    }
    expect(repaired).toEqual([]);
    expect(tried).toBeGreaterThan(2000);
  });
});
