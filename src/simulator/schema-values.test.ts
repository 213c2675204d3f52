import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bfclLastUserText, bfclToOpenAiTools, loadBfclCases } from '../contracts/bfcl-import.js';
import { BFCL_DIR } from '../test-support/bfcl.js';
import { extractHints } from './hints.js';
import { Rng } from './prng.js';
import { generateArguments, generateValue, type JsonSchema } from './schema-values.js';
import { fastStrictAjv, validatorCache } from './test-support/fast-ajv.js';

const BFCL = BFCL_DIR;

describe('generateArguments on the real BFCL schemas', () => {
  it.each(['BFCL_v4_simple_python', 'BFCL_v4_multiple', 'BFCL_v4_live_simple'])(
    'every function of %s gets arguments valid against its (closed) schema',
    async (file) => {
      const ajv = fastStrictAjv();
      const validatorFor = validatorCache(ajv);
      const failures: string[] = [];
      for (const c of await loadBfclCases(join(BFCL, `${file}.json`))) {
        const hints = extractHints(bfclLastUserText(c) ?? '');
        for (const tool of bfclToOpenAiTools(c, { closed: true })) {
          const validate = validatorFor(tool.function.parameters);
          for (const useHints of [true, false]) {
            const args = generateArguments(tool.function.parameters, new Rng(`${c.id}/${useHints}`), {
              hints,
              useHints,
            });
            if (!validate(args)) {
              failures.push(
                `${c.id} ${tool.function.name}: ${ajv.errorsText(validate.errors)} ${JSON.stringify(args)}`,
              );
            }
          }
        }
      }
      expect(failures).toEqual([]);
    },
  );
});

describe('values taken from the user message', () => {
  const schema: JsonSchema = {
    type: 'object',
    properties: {
      base: { type: 'integer' },
      height: { type: 'integer' },
      unit: { type: 'string', enum: ['cm', 'm', 'units'] },
      location: { type: 'string' },
      date: { type: 'string', format: 'date' },
      verbose: { type: 'boolean' },
    },
    required: ['base', 'height', 'location', 'date'],
  };

  it('matches numbers to the parameter named before them, enums and places by mention', () => {
    const text =
      'Find the area with a height of 5 and a base of 10, unit cm, in San Francisco, CA on 2026-04-01.';
    const args = generateArguments(schema, new Rng('t'), { hints: extractHints(text) });
    expect(args).toEqual({
      base: 10,
      height: 5,
      unit: 'cm',
      location: 'San Francisco, CA',
      date: '2026-04-01',
    });
  });

  it('is deterministic for one seed and varies across seeds without hints', () => {
    const a = generateValue(schema, new Rng('s1'));
    expect(generateValue(schema, new Rng('s1'))).toEqual(a);
    const others = ['s2', 's3', 's4', 's5'].map((s) => JSON.stringify(generateValue(schema, new Rng(s))));
    expect(others.some((o) => o !== JSON.stringify(a))).toBe(true);
  });

  it('follows local $ref, allOf, anyOf with null, const and tuple items', () => {
    const ajv = new Ajv2020({ strict: true });
    const complex = {
      type: 'object',
      $defs: {
        money: {
          type: 'object',
          properties: { amount: { type: 'number', minimum: 1 } },
          required: ['amount'],
        },
      },
      properties: {
        price: { $ref: '#/$defs/money' },
        kind: { const: 'order' },
        note: { anyOf: [{ type: 'null' }, { type: 'string', minLength: 3, maxLength: 5 }] },
        point: {
          type: 'array',
          prefixItems: [{ type: 'number' }, { type: 'string' }],
          minItems: 2,
          maxItems: 2,
        },
        both: {
          allOf: [
            { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] },
            { type: 'object', properties: { b: { type: 'string' } } },
          ],
        },
      },
      required: ['price', 'kind', 'note', 'point', 'both'],
      additionalProperties: false,
    };
    const validate = ajv.compile(complex);
    for (let i = 0; i < 50; i++) {
      const value = generateValue(complex, new Rng(`c${i}`));
      expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
    }
  });
});

/** Random schemas within the supported keywords: generated values must always validate. */
const leaf: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc
    .record({ minLength: fc.integer({ min: 0, max: 5 }), extra: fc.integer({ min: 0, max: 10 }) })
    .map(({ minLength, extra }) => ({ type: 'string', minLength, maxLength: minLength + extra })),
  fc.constantFrom(
    { type: 'string', format: 'date' },
    { type: 'string', format: 'email' },
    { type: 'string', format: 'uuid' },
    { type: 'boolean' },
    { type: 'null' },
    { type: ['integer', 'null'] },
  ),
  fc
    .record({
      min: fc.integer({ min: -50, max: 50 }),
      span: fc.integer({ min: 0, max: 100 }),
      int: fc.boolean(),
    })
    .map(({ min, span, int }) => ({ type: int ? 'integer' : 'number', minimum: min, maximum: min + span })),
  fc
    .uniqueArray(fc.oneof(fc.string({ minLength: 1, maxLength: 6 }), fc.integer()), {
      minLength: 1,
      maxLength: 4,
    })
    .map((values) => ({ enum: values })),
);

const schemaArb = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('object'), tie('array')),
  object: fc
    .dictionary(fc.constantFrom('a', 'b', 'city', 'count', 'user_id', 'date'), tie('node'), { maxKeys: 4 })
    .chain((properties) =>
      fc.subarray(Object.keys(properties)).map((required) => ({
        type: 'object',
        properties,
        required,
        additionalProperties: false,
      })),
    ),
  array: fc
    .record({
      items: tie('node'),
      minItems: fc.integer({ min: 0, max: 3 }),
      extra: fc.integer({ min: 0, max: 3 }),
    })
    .map(({ items, minItems, extra }) => ({ type: 'array', items, minItems, maxItems: minItems + extra })),
}));

describe('generateValue on random schemas', () => {
  it('always produces a valid value', () => {
    const ajv = fastStrictAjv();
    fc.assert(
      fc.property(schemaArb.node, fc.string({ maxLength: 40 }), fc.integer(), (schema, text, seed) => {
        const validate = ajv.compile(schema as object);
        const value = generateValue(schema as JsonSchema, new Rng(String(seed)), {
          hints: extractHints(text),
        });
        return validate(value) || `${JSON.stringify(value)} ${ajv.errorsText(validate.errors)}`.length < 0;
      }),
      { numRuns: 200 },
    );
  });
});
