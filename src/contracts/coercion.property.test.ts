import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AppliedCoercion, coerceArguments, exactNumber } from './coercion.js';
import { jsonEqual, valueAt } from './json-shape.js';
import { compileSchema } from './schema-compiler.js';
import {
  coercibleDrift,
  type Location,
  locations,
  renameAt,
  schemaTypes,
  schemaWithValue,
  setAt,
} from './test-support/property-arbitraries.js';

const RUNS = { numRuns: 200 };

/** Replays a coercion log on `before`; throws if a step's `from` is not what is there. */
function replay(before: unknown, log: readonly AppliedCoercion[]): unknown {
  let value = before;
  for (const step of log) {
    expect(jsonEqual(valueAt(value, step.path), step.from), `${step.path} from`).toBe(true);
    value = setAt(value, step.path, step.to);
  }
  return value;
}

function kindRuleHolds(c: AppliedCoercion): boolean {
  switch (c.kind) {
    case 'string_to_integer':
      return typeof c.from === 'string' && Number.isInteger(c.to) && exactNumber(c.from) === c.to;
    case 'string_to_number':
      return typeof c.from === 'string' && typeof c.to === 'number' && exactNumber(c.from) === c.to;
    case 'number_to_string':
      return typeof c.from === 'number' && c.to === String(c.from);
    case 'string_to_boolean':
      return (c.from === 'true' && c.to === true) || (c.from === 'false' && c.to === false);
    case 'wrap_in_array':
      return Array.isArray(c.to) && c.to.length === 1 && c.to[0] === c.from && c.from !== null;
  }
}

/** Arbitrary arguments: valid ones with random scalar swaps, or any JSON object at all. */
const anyArguments = schemaWithValue.chain(({ schema, value }) => {
  const locs = locations(schema, value);
  const mutated =
    locs.length === 0
      ? fc.constant(value as unknown)
      : fc
          .array(
            fc.tuple(
              fc.nat(locs.length - 1),
              fc.oneof(
                fc.constant(null),
                fc.string({ maxLength: 4 }),
                fc.integer().map(String),
                fc.boolean(),
                fc.integer(),
              ),
            ),
            { maxLength: 3 },
          )
          .map((swaps) => {
            let v: unknown = value;
            for (const [i, next] of swaps) {
              const p = locs[i]?.path;
              if (p !== undefined && valueAt(v, p) !== undefined) v = setAt(v, p, next);
            }
            return v;
          });
  const random = fc.dictionary(
    fc.constantFrom('a', 'b', 'count', 'tags', 'x'),
    fc.jsonValue({ maxDepth: 2 }),
    { maxKeys: 4 },
  );
  return fc.oneof(mutated, random).map((args) => ({ schema, args }));
});

describe('coerceArguments (properties)', () => {
  it('returns valid input unchanged, same reference, no coercions', () => {
    fc.assert(
      fc.property(schemaWithValue, ({ schema, value }) => {
        const out = coerceArguments(schema, value);
        expect(out.status).toBe('valid');
        if (out.status === 'valid') {
          expect(out.arguments).toBe(value);
          expect(out.coercions).toEqual([]);
        }
      }),
      RUNS,
    );
  });

  it('coerced output validates strictly, every change is in the log, input is untouched, result is idempotent', () => {
    fc.assert(
      fc.property(anyArguments, ({ schema, args }) => {
        const snapshot = structuredClone(args);
        const out = coerceArguments(schema, args);
        expect(args).toEqual(snapshot);
        if (out.status !== 'coerced') return;
        expect(compileSchema(schema, '/s')(out.after)).toBe(true);
        expect(out.coercions.length).toBeGreaterThan(0);
        expect(jsonEqual(replay(args, out.coercions), out.after)).toBe(true);
        for (const c of out.coercions) expect(kindRuleHolds(c), JSON.stringify(c)).toBe(true);
        const again = coerceArguments(schema, out.after);
        expect(again.status).toBe('valid');
      }),
      RUNS,
    );
  });

  it('repairs one coercible drift back to exactly the original value', () => {
    const drifted = schemaWithValue
      .map(({ schema, value }) => ({
        schema,
        value,
        locs: locations(schema, value).filter((l) => coercibleDrift(l) !== undefined),
      }))
      .filter(({ locs }) => locs.length > 0)
      .chain(({ schema, value, locs }) =>
        fc.nat(locs.length - 1).map((i) => ({ schema, value, loc: locs[i] as Location })),
      );
    fc.assert(
      fc.property(drifted, ({ schema, value, loc }) => {
        const out = coerceArguments(schema, setAt(value, loc.path, coercibleDrift(loc)));
        expect(out.status).toBe('coerced');
        if (out.status === 'coerced') {
          expect(out.after).toEqual(value);
          expect(out.coercions[0]?.path).toBe(loc.path);
        }
      }),
      RUNS,
    );
  });

  it('never repairs a missing required key, a renamed key, an extra key or a null', () => {
    const broken = schemaWithValue.chain(({ schema, value }) => {
      const locs = locations(schema, value);
      const options: fc.Arbitrary<unknown>[] = [fc.constant(setAt(value, '/unexpected_extra', 1))];
      const requiredKeys = locs.filter((l) => l.required && !/\/\d+$/.test(l.path));
      if (requiredKeys.length > 0) {
        options.push(fc.constantFrom(...requiredKeys).map((l) => setAt(value, l.path, undefined)));
        options.push(fc.constantFrom(...requiredKeys).map((l) => renameAt(value, l.path, 'renamed_key')));
      }
      const nonNullable = locs.filter((l) => !schemaTypes(l.schema).includes('null'));
      if (nonNullable.length > 0)
        options.push(fc.constantFrom(...nonNullable).map((l) => setAt(value, l.path, null)));
      return fc.oneof(...options).map((args) => ({ schema, args }));
    });
    fc.assert(
      fc.property(broken, ({ schema, args }) => {
        expect(coerceArguments(schema, args).status).toBe('not_coercible');
      }),
      RUNS,
    );
  });
});
