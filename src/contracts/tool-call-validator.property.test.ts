import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wrapInFence } from './fenced-json.js';
import { isPlainObject, pointerTokens, valueAt } from './json-shape.js';
import { toolContract } from './test-support/contract-fixtures.js';
import {
  coercibleDrift,
  locations,
  type Schema,
  schemaWithValue,
  setAt,
} from './test-support/property-arbitraries.js';
import { validateToolCall } from './tool-call-validator.js';

const RUNS = { numRuns: 200 };
let version = 0;
const contractsFor = (schema: Schema) => new Map([['t', toolContract('t', schema, { version: ++version })]]);

describe('validateToolCall (properties)', () => {
  it('accepts every valid value, the same as OpenAI text and as Anthropic input', () => {
    fc.assert(
      fc.property(schemaWithValue, ({ schema, value }) => {
        const contracts = contractsFor(schema);
        const text = validateToolCall(contracts, { name: 't', argumentsText: JSON.stringify(value) });
        const input = validateToolCall(contracts, { name: 't', input: value });
        expect(text.valid).toBe(true);
        expect(input.valid).toBe(true);
        if (text.valid) expect(text.arguments).toEqual(value);
      }),
      RUNS,
    );
  });

  it('recognises any valid arguments wrapped in a markdown fence, and gives the inner value', () => {
    fc.assert(
      fc.property(schemaWithValue, fc.constantFrom('json', 'JSON', ''), ({ schema, value }, lang) => {
        const out = validateToolCall(contractsFor(schema), {
          name: 't',
          argumentsText: wrapInFence(JSON.stringify(value, null, 2), lang),
        });
        expect(out).toMatchObject({ valid: false, kind: 'unparsable_arguments', reason: 'json_in_markdown' });
        if (!out.valid && out.kind === 'unparsable_arguments') expect(out.fenced).toEqual(value);
      }),
      RUNS,
    );
  });

  it('never throws on arbitrary argument text, and calls it unparsable exactly when JSON.parse fails', () => {
    const contracts = contractsFor({ type: 'object', properties: { a: { type: 'string' } } });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.string().map((s) => `\`\`\`${s}\`\`\``),
        ),
        (text) => {
          const out = validateToolCall(contracts, { name: 't', argumentsText: text });
          let parses = true;
          try {
            JSON.parse(text);
          } catch {
            parses = false;
          }
          expect(!out.valid && out.kind === 'unparsable_arguments').toBe(!parses);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('points every violation at a real place: the value, or for a missing key its parent object', () => {
    const drifted = schemaWithValue
      .map(({ schema, value }) => ({ schema, value, locs: locations(schema, value) }))
      .filter(({ locs }) => locs.length > 0)
      .chain(({ schema, value, locs }) =>
        fc
          .tuple(
            fc.nat(locs.length - 1),
            fc.oneof(fc.constant(null), fc.constant(undefined), fc.constant('x'), fc.constant(-1.5)),
          )
          .map(([i, next]) => {
            const loc = locs[i];
            if (!loc) return { schema, args: value };
            const drift = coercibleDrift(loc);
            const args = setAt(value, loc.path, drift !== undefined && next === 'x' ? drift : next);
            // Through JSON, as arguments arrive: an undefined array element becomes null.
            return { schema, args: JSON.parse(JSON.stringify(args)) as unknown };
          }),
      );
    fc.assert(
      fc.property(drifted, ({ schema, args }) => {
        const out = validateToolCall(contractsFor(schema), { name: 't', input: args });
        if (out.valid) return;
        expect(out.kind).toBe('schema_violation');
        if (out.kind !== 'schema_violation') return;
        expect(out.violations.length).toBeGreaterThan(0);
        for (const v of out.violations) {
          if (v.keyword === 'required') {
            const parent = `/${pointerTokens(v.path).slice(0, -1).join('/')}`.replace(/^\/$/, '');
            expect(isPlainObject(valueAt(args, parent)), v.path).toBe(true);
            expect(valueAt(args, v.path)).toBeUndefined();
          } else {
            expect(valueAt(args, v.path), `${v.path} ${v.keyword}`).not.toBeUndefined();
          }
        }
      }),
      RUNS,
    );
  });
});
