import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { BFCL_DIR } from '../test-support/bfcl.js';
import {
  type BfclAnswer,
  type BfclCase,
  bfclGoldenCall,
  bfclToAnthropicTools,
  bfclToJsonSchema,
  bfclToOpenAiTools,
  bfclToolNameMap,
  loadBfclAnswers,
  loadBfclCases,
  parseBfclAnswers,
  parseBfclCases,
  toToolName,
} from './bfcl-import.js';

const DIR = BFCL_DIR;
const FILES = ['BFCL_v4_simple_python', 'BFCL_v4_multiple', 'BFCL_v4_live_simple'] as const;

function strictAjv(): Ajv {
  // Strict mode on: unknown keywords, unknown formats, required names without a property and
  // loose types all fail compilation, so a sloppy conversion cannot slip through.
  const ajv = new Ajv({ strict: true, allErrors: true });
  addFormats.default(ajv);
  return ajv;
}

describe('bfclToJsonSchema', () => {
  it('maps BFCL types to JSON Schema types, nested', () => {
    const schema = bfclToJsonSchema({
      type: 'dict',
      properties: {
        ratio: { type: 'float', description: 'r' },
        point: { type: 'tuple', items: { type: 'float' } },
        anything: { type: 'any', description: 'whatever' },
        nested: { type: 'dict', properties: { n: { type: 'integer' } }, required: ['n'] },
        list: { type: 'array', items: { type: 'dict', properties: { s: { type: 'string' } } } },
      },
      required: ['ratio'],
    });
    expect(schema).toEqual({
      type: 'object',
      properties: {
        ratio: { type: 'number', description: 'r' },
        point: { type: 'array', items: { type: 'number' } },
        anything: { description: 'whatever' },
        nested: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
        list: { type: 'array', items: { type: 'object', properties: { s: { type: 'string' } } } },
      },
      required: ['ratio'],
    });
  });

  it('drops the non-standard optional annotation and takes those names out of required', () => {
    const schema = bfclToJsonSchema({
      type: 'dict',
      properties: { a: { type: 'string' }, b: { type: 'string', optional: 'True' }, c: { type: 'integer' } },
      required: ['a', 'b', 'c'],
      optional: ['c'],
    });
    expect(schema).toEqual({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'string' }, c: { type: 'integer' } },
      required: ['a'],
    });
  });

  it('moves an enum of item values from an array to its items', () => {
    expect(bfclToJsonSchema({ type: 'array', items: { type: 'string' }, enum: ['view', 'buzz'] })).toEqual({
      type: 'array',
      items: { type: 'string', enum: ['view', 'buzz'] },
    });
  });

  it('closes objects on request, and refuses unknown types', () => {
    const closed = bfclToJsonSchema(
      { type: 'dict', properties: { a: { type: 'string' } } },
      { closed: true },
    );
    expect(closed.additionalProperties).toBe(false);
    expect(() => bfclToJsonSchema({ type: 'dict', properties: { a: { type: 'complex' } } })).toThrow(
      /parameters\.a: unsupported BFCL type "complex"/,
    );
  });
});

describe('tool names', () => {
  it('makes dotted names provider-safe and maps them back', () => {
    expect(toToolName('math.factorial')).toBe('math_factorial');
    expect(toToolName('get_weather')).toBe('get_weather');
    const map = bfclToolNameMap(['a.b', 'a_b', 'x.y.z']);
    expect(map.toTool('a.b')).toBe('a_b');
    expect(map.toTool('a_b')).toBe('a_b_2');
    expect(map.fromTool('a_b')).toBe('a.b');
    expect(map.fromTool('a_b_2')).toBe('a_b');
    expect(map.fromTool('x_y_z')).toBe('x.y.z');
  });
});

describe('parsing', () => {
  it('reads JSON Lines and reports the line of a bad record', () => {
    const text = `{"id":"c1","question":[[{"role":"user","content":"hi"}]],"function":[]}\n\n{"id":2}\n`;
    expect(() => parseBfclCases(text, 'f.json')).toThrow(/f\.json:3: not a BFCL record/);
    expect(parseBfclCases(text.split('\n')[0] ?? '')).toHaveLength(1);
    const answers = parseBfclAnswers('{"id":"c1","ground_truth":[{"m.f":{"x":[1,""]}}]}');
    expect(answers).toEqual([{ id: 'c1', calls: [{ name: 'm.f', accepted: { x: [1, ''] } }] }]);
  });

  it('resolves first accepted values, nested dicts included, and omits ""-only params', () => {
    const bfclCase: BfclCase = {
      id: 'c',
      question: [[{ role: 'user', content: 'q' }]],
      function: [
        {
          name: 'svc.call',
          description: 'd',
          parameters: {
            type: 'dict',
            properties: {
              body: { type: 'dict', properties: { mode: { type: 'string' }, temp: { type: 'integer' } } },
              rows: { type: 'array', items: { type: 'dict', properties: { n: { type: 'string' } } } },
              unit: { type: 'string' },
              flag: { type: 'boolean' },
            },
          },
        },
      ],
    };
    const answer: BfclAnswer = {
      id: 'c',
      calls: [
        {
          name: 'svc.call',
          accepted: {
            body: [{ mode: ['', 'COOL'], temp: [''] }],
            rows: [[{ n: ['a', 'A'] }, { n: ['b'] }]],
            unit: [''],
            flag: ['', false],
          },
        },
      ],
    };
    expect(bfclGoldenCall(bfclCase, answer)).toEqual({
      caseId: 'c',
      name: 'svc.call',
      toolName: 'svc_call',
      arguments: { body: { mode: 'COOL' }, rows: [{ n: 'a' }, { n: 'b' }], flag: false },
    });
  });
});

describe.each(FILES)('all cases of %s', (file) => {
  let cases: BfclCase[] = [];
  let answers = new Map<string, BfclAnswer>();
  // Each converted schema compiled once (strict, meta-schema validated), shared by both tests.
  const compiled = new Map<string, ValidateFunction>();
  const compileFailures: string[] = [];
  const ajv = strictAjv();
  beforeAll(async () => {
    cases = await loadBfclCases(join(DIR, `${file}.json`));
    answers = new Map((await loadBfclAnswers(join(DIR, `${file}.answers.json`))).map((a) => [a.id, a]));
    for (const c of cases) {
      for (const tool of bfclToOpenAiTools(c, { closed: true })) {
        try {
          compiled.set(`${c.id}/${tool.function.name}`, ajv.compile(tool.function.parameters));
        } catch (e) {
          compileFailures.push(`${c.id} ${tool.function.name}: ${(e as Error).message}`);
        }
      }
    }
  });

  it('converts every schema into one that compiles in ajv strict mode', () => {
    expect(compileFailures).toEqual([]);
    expect(cases.length).toBeGreaterThan(100);
    for (const c of cases) {
      for (const tool of bfclToOpenAiTools(c)) expect(tool.function.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
      expect(bfclToAnthropicTools(c)).toHaveLength(c.function.length);
    }
  });

  it("validates every answer's first accepted values against the converted (closed) schema", () => {
    const failures: string[] = [];
    for (const c of cases) {
      const answer = answers.get(c.id);
      expect(answer, c.id).toBeDefined();
      const golden = answer && bfclGoldenCall(c, answer);
      const validate = golden && compiled.get(`${c.id}/${golden.toolName}`);
      if (!golden || !validate) {
        failures.push(`${c.id}: expected function not offered`);
        continue;
      }
      if (!validate(golden.arguments)) {
        failures.push(`${c.id}: ${ajv.errorsText(validate.errors)}`);
      }
    }
    expect(failures).toEqual(KNOWN_INVALID_ANSWERS[file]);
  });
});

/**
 * Cases whose BFCL ground truth does not satisfy BFCL's own schema, kept here so the list is
 * visible and a change in it fails the test.
 */
const KNOWN_INVALID_ANSWERS: Record<(typeof FILES)[number], string[]> = {
  BFCL_v4_simple_python: [],
  BFCL_v4_multiple: [],
  BFCL_v4_live_simple: [
    // The ground truth leaves out required parameters (the function requires one list per intent).
    "live_simple_106-63-0: data must have required property 'auto_loan_payment_start', data must have required property 'bank_hours_start'",
    "live_simple_112-68-0: data must have required property 'acc_routing_start', data must have required property 'atm_finder_start', data must have required property 'faq_link_accounts_start', data must have required property 'get_balance_start', data must have required property 'get_transactions_start'",
  ],
};
