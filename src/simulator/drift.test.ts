import { describe, expect, it } from 'vitest';
import type { KnownCase } from './known-cases.js';
import type { Drift, DriftKind } from './profile.js';
import { openAiText, openAiToolCall, post, withSimulator } from './test-support/sim-client.js';

const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'calculate_triangle_area',
      description: 'Calculate the area of a triangle given its base and height.',
      parameters: {
        type: 'object',
        properties: { base: { type: 'integer' }, height: { type: 'integer' }, unit: { type: 'string' } },
        required: ['base', 'height'],
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];
const QUESTION = 'Find the area of a triangle with a base of 10 units and height of 5 units.';
const EXPECTED = { base: 10, height: 5, unit: 'units' };
const KNOWN: KnownCase[] = [
  { messagesMatch: QUESTION, expected: { name: 'calculate_triangle_area', arguments: EXPECTED } },
];

const toolRequest = { model: 'm', messages: [{ role: 'user', content: QUESTION }], tools: TOOLS };
const textRequest = { model: 'm', messages: [{ role: 'user', content: 'Explain how tides work on Earth.' }] };
const jsonRequest = { ...textRequest, response_format: { type: 'json_object' } };

/** The model's reply with the given drifts, from a fresh simulator (seed fixed). */
async function reply(drift: Drift[], body: object, headers: Record<string, string> = {}) {
  return withSimulator({ seed: 99, models: { m: { drift } }, knownCases: KNOWN }, async (sim) => {
    const res = await post(sim, '/v1/chat/completions', body, headers);
    return res.json();
  });
}

const argumentKinds: Array<[DriftKind, (args: Record<string, unknown>) => void]> = [
  [
    'number_as_string',
    (args) => {
      const strings = ['base', 'height'].filter((k) => typeof args[k] === 'string');
      expect(strings).toHaveLength(1);
      expect(Number(args[strings[0] ?? ''])).toBe(EXPECTED[strings[0] as 'base' | 'height']);
    },
  ],
  [
    'renamed_argument',
    (args) => {
      const keys = Object.keys(args);
      const renamed = keys.filter((k) => !(k in EXPECTED));
      expect(renamed).toHaveLength(1);
      expect(keys).toHaveLength(3);
      // The value is kept under the new name.
      const original = Object.keys(EXPECTED).find((k) => !(k in args)) as keyof typeof EXPECTED;
      expect(args[renamed[0] ?? '']).toBe(EXPECTED[original]);
    },
  ],
  [
    'missing_required',
    (args) => {
      expect(['base', 'height'].filter((k) => !(k in args))).toHaveLength(1);
      expect(args.unit).toBe('units');
    },
  ],
  [
    'extra_argument',
    (args) => {
      const extra = Object.keys(args).filter((k) => !(k in EXPECTED));
      expect(extra).toHaveLength(1);
      expect(args).toMatchObject(EXPECTED);
    },
  ],
];

describe('drift on tool calls', () => {
  it('without drift the known case is called exactly', async () => {
    expect(openAiToolCall(await reply([], toolRequest))).toEqual({
      name: 'calculate_triangle_area',
      arguments: EXPECTED,
    });
  });

  it.each(argumentKinds)('%s is applied at rate 1 and never at rate 0', async (kind, check) => {
    const drifted = openAiToolCall(await reply([{ kind, rate: 1 }], toolRequest));
    expect(drifted?.name).toBe('calculate_triangle_area');
    check(drifted?.arguments ?? {});
    const clean = openAiToolCall(await reply([{ kind, rate: 0 }], toolRequest));
    expect(clean?.arguments).toEqual(EXPECTED);
  });

  it('other_tool picks another offered tool at rate 1, never at rate 0', async () => {
    expect(openAiToolCall(await reply([{ kind: 'other_tool', rate: 1 }], toolRequest))?.name).toBe(
      'get_weather',
    );
    expect(openAiToolCall(await reply([{ kind: 'other_tool', rate: 0 }], toolRequest))?.name).toBe(
      'calculate_triangle_area',
    );
  });

  it('applies only to the listed tools', async () => {
    const scoped: Drift[] = [{ kind: 'missing_required', rate: 1, tools: ['get_weather'] }];
    expect(openAiToolCall(await reply(scoped, toolRequest))?.arguments).toEqual(EXPECTED);
    const matching: Drift[] = [{ kind: 'missing_required', rate: 1, tools: ['calculate_triangle_area'] }];
    expect(Object.keys(openAiToolCall(await reply(matching, toolRequest))?.arguments ?? {})).toHaveLength(2);
  });

  it('applies only to the listed tenants (x-switchyard-tenant); no header -> only unscoped drift', async () => {
    const drift: Drift[] = [{ kind: 'extra_argument', rate: 1, tenants: ['acme'] }];
    const acme = openAiToolCall(await reply(drift, toolRequest, { 'x-switchyard-tenant': 'acme' }));
    expect(Object.keys(acme?.arguments ?? {})).toHaveLength(4);
    const globex = openAiToolCall(await reply(drift, toolRequest, { 'x-switchyard-tenant': 'globex' }));
    expect(globex?.arguments).toEqual(EXPECTED);
    const anonymous = openAiToolCall(await reply(drift, toolRequest));
    expect(anonymous?.arguments).toEqual(EXPECTED);
    const unscoped = openAiToolCall(await reply([{ kind: 'extra_argument', rate: 1 }], toolRequest));
    expect(Object.keys(unscoped?.arguments ?? {})).toHaveLength(4);
  });

  it('tool-scoped drift never touches text answers', async () => {
    const text = openAiText(await reply([], textRequest));
    expect(
      openAiText(await reply([{ kind: 'changed_wording', rate: 1, tools: ['get_weather'] }], textRequest)),
    ).toBe(text);
  });
});

describe('drift on text and JSON', () => {
  it('changed_wording rewords the text at rate 1 and never at rate 0', async () => {
    const usual = openAiText(await reply([], textRequest));
    const reworded = openAiText(await reply([{ kind: 'changed_wording', rate: 1 }], textRequest));
    expect(reworded).not.toBe(usual);
    expect(reworded).toMatch(/tides/);
    expect(openAiText(await reply([{ kind: 'changed_wording', rate: 0 }], textRequest))).toBe(usual);
  });

  it('json_in_markdown fences JSON output at rate 1 and never at rate 0', async () => {
    const plain = openAiText(await reply([], jsonRequest)) ?? '';
    expect(() => JSON.parse(plain)).not.toThrow();
    const fenced = openAiText(await reply([{ kind: 'json_in_markdown', rate: 1 }], jsonRequest)) ?? '';
    expect(fenced).toBe(`\`\`\`json\n${plain}\n\`\`\``);
    expect(openAiText(await reply([{ kind: 'json_in_markdown', rate: 0 }], jsonRequest))).toBe(plain);
  });

  it('at a rate in between, drift hits some responses and not others', async () => {
    await withSimulator(
      { seed: 4, models: { m: { drift: [{ kind: 'changed_wording', rate: 0.5 }] } } },
      async (sim) => {
        const texts = new Set<string>();
        for (let i = 0; i < 20; i++) {
          texts.add(openAiText((await post(sim, '/v1/chat/completions', textRequest)).json()) ?? '');
        }
        // Repeats of one request differ only by template and drift: more than the 3 usual templates.
        expect(texts.size).toBeGreaterThan(3);
      },
    );
  });
});
