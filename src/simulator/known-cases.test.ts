import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BfclAnswer,
  type BfclCase,
  bfclGoldenCall,
  bfclMessages,
  bfclToAnthropicTools,
  bfclToOpenAiTools,
  loadBfclAnswers,
  loadBfclCases,
} from '../contracts/bfcl-import.js';
import { BFCL_DIR } from '../test-support/bfcl.js';
import { type KnownCase, KnownCaseIndex, knownCasesFromBfcl } from './known-cases.js';
import { parseOpenAiRequest } from './openai-wire.js';
import { Rng } from './prng.js';
import { defaultProfile } from './profile.js';
import { planReply } from './reply.js';
import { type RunningSimulator, startSimulator } from './server.js';
import { fastStrictAjv, validatorCache } from './test-support/fast-ajv.js';
import { openAiText, openAiToolCall, post, withSimulator } from './test-support/sim-client.js';

const BFCL = BFCL_DIR;
const FILES = ['BFCL_v4_simple_python', 'BFCL_v4_multiple', 'BFCL_v4_live_simple'];

interface Loaded {
  cases: BfclCase[];
  answers: Map<string, BfclAnswer>;
}

const data = new Map<string, Loaded>();
const known: KnownCase[] = [];
let sim: RunningSimulator;
const ajv = fastStrictAjv();
const validatorFor = validatorCache(ajv);

beforeAll(async () => {
  for (const file of FILES) {
    const cases = await loadBfclCases(join(BFCL, `${file}.json`));
    const answers = new Map(
      (await loadBfclAnswers(join(BFCL, `${file}.answers.json`))).map((a) => [a.id, a]),
    );
    data.set(file, { cases, answers });
    known.push(...(await knownCasesFromBfcl(join(BFCL, `${file}.json`))));
  }
  sim = await startSimulator({ seed: 5, models: { 'sim-gpt': {} }, knownCases: known });
});
afterAll(async () => {
  await sim.close();
});

/** Sends requests a few at a time: fast, without opening hundreds of sockets. */
async function inBatches<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size)
    out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

describe('known cases from BFCL', () => {
  it('loads one known case per BFCL case', () => {
    const total = [...data.values()].reduce((n, d) => n + d.cases.length, 0);
    expect(known).toHaveLength(total);
    expect(new KnownCaseIndex(known).size).toBe(total);
  });

  /**
   * What is wrong with a call made for a case ('' when it is the golden call). That golden calls
   * satisfy their schemas is checked in src/contracts/bfcl-import.test.ts.
   */
  function checkCall(c: BfclCase, call: { name: string; arguments: Record<string, unknown> } | undefined) {
    const { answers } = [...data.values()].find((d) => d.answers.has(c.id)) as Loaded;
    const golden = bfclGoldenCall(c, answers.get(c.id) as BfclAnswer);
    const problems: string[] = [];
    if (call?.name !== golden?.toolName) problems.push(`called ${call?.name}, expected ${golden?.toolName}`);
    if (JSON.stringify(call?.arguments) !== JSON.stringify(golden?.arguments))
      problems.push('arguments differ');
    return problems.length > 0 ? `${c.id}: ${problems.join(', ')}` : '';
  }

  it.each(FILES)('every case of %s gets its golden call (in process, OpenAI request)', (file) => {
    const index = new KnownCaseIndex(known);
    const failures = (data.get(file) as Loaded).cases.map((c) => {
      const parsed = parseOpenAiRequest({
        model: 'm',
        messages: bfclMessages(c),
        tools: bfclToOpenAiTools(c),
      });
      if (!parsed.ok) return `${c.id}: ${parsed.message}`;
      const reply = planReply(parsed.request, {
        profile: defaultProfile,
        rng: new Rng(c.id),
        tenant: undefined,
        knownCases: index,
      });
      const output = reply.output;
      return checkCall(c, output.kind === 'tool_call' ? output : undefined);
    });
    expect(failures.filter(Boolean)).toEqual([]);
  });

  it('a sample of cases of every file gets its golden call over HTTP', async () => {
    const sample = [...data.values()].flatMap((d) => d.cases.filter((_, i) => i % 5 === 0));
    const failures = await inBatches(sample, 16, async (c) => {
      const res = await post(sim, '/v1/chat/completions', {
        model: 'sim-gpt',
        messages: bfclMessages(c),
        tools: bfclToOpenAiTools(c),
      });
      return checkCall(c, openAiToolCall(res.json()));
    });
    expect(failures.filter(Boolean)).toEqual([]);
  });

  it('without a known case, BFCL tool calls (Anthropic format) still satisfy the schemas', async () => {
    const sample = [...data.values()].flatMap((d) => d.cases.filter((_, i) => i % 8 === 0));
    await withSimulator({ seed: 6, models: { 'sim-claude': {} } }, async (fresh) => {
      const failures = await inBatches(sample, 16, async (c) => {
        const messages = bfclMessages(c);
        const system = messages.filter((m) => m.role === 'system').map((m) => m.content);
        const res = await post(fresh, '/v1/messages', {
          model: 'sim-claude',
          max_tokens: 1024,
          ...(system.length > 0 ? { system: system.join('\n') } : {}),
          messages: messages.filter((m) => m.role !== 'system'),
          tools: bfclToAnthropicTools(c, { closed: true }),
        });
        const block = (res.json().content as Array<Record<string, unknown>>)[0];
        const tool = bfclToAnthropicTools(c, { closed: true }).find((t) => t.name === block?.name);
        if (block?.type !== 'tool_use' || !tool) return `${c.id}: no tool_use for an offered tool`;
        const validate = validatorFor(tool.input_schema);
        return validate(block.input) ? undefined : `${c.id}: ${ajv.errorsText(validate.errors)}`;
      });
      expect(failures.filter(Boolean)).toEqual([]);
    });
  });
});

describe('multi-step known cases', () => {
  const steps: KnownCase = {
    id: 'trip',
    messagesMatch: 'Plan my trip to Kyoto',
    expected: { name: 'find_flights', arguments: { to: 'KIX' } },
    followUps: [{ name: 'book_hotel', arguments: { city: 'Kyoto', nights: 3 } }],
  };
  const tools = ['find_flights', 'book_hotel'].map((name) => ({
    type: 'function',
    function: { name, description: name, parameters: { type: 'object', properties: {} } },
  }));
  const toolTurn = (id: string, name: string, result: string) => [
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id, type: 'function', function: { name, arguments: '{}' } }],
    },
    { role: 'tool', tool_call_id: id, content: result },
  ];

  it('plays the expected call, then each follow-up after a tool result, then summarises', async () => {
    await withSimulator({ models: { m: {} }, knownCases: [steps] }, async (s) => {
      const user = { role: 'user', content: '  Plan my trip   to Kyoto ' };
      const first = await post(s, '/v1/chat/completions', { model: 'm', tools, messages: [user] });
      expect(openAiToolCall(first.json())).toEqual({ name: 'find_flights', arguments: { to: 'KIX' } });
      const second = await post(s, '/v1/chat/completions', {
        model: 'm',
        tools,
        messages: [user, ...toolTurn('c1', 'find_flights', 'JL123 at 10:00')],
      });
      expect(openAiToolCall(second.json())).toEqual({
        name: 'book_hotel',
        arguments: { city: 'Kyoto', nights: 3 },
      });
      const third = await post(s, '/v1/chat/completions', {
        model: 'm',
        tools,
        messages: [
          user,
          ...toolTurn('c1', 'find_flights', 'JL123'),
          ...toolTurn('c2', 'book_hotel', 'Hotel Gion'),
        ],
      });
      expect(openAiToolCall(third.json())).toBeUndefined();
      expect(openAiText(third.json())).toContain('book_hotel returned Hotel Gion');
    });
  });

  it('falls back to generation when the expected tool is not offered', async () => {
    await withSimulator({ models: { m: {} }, knownCases: [steps] }, async (s) => {
      const res = await post(s, '/v1/chat/completions', {
        model: 'm',
        tools: tools.slice(1),
        messages: [{ role: 'user', content: 'Plan my trip to Kyoto' }],
      });
      expect(openAiToolCall(res.json())?.name).toBe('book_hotel');
    });
  });

  it('a wrong call at toolCallAccuracy 0 is another tool, still schema-valid', async () => {
    await withSimulator({ models: { m: { toolCallAccuracy: 0 } }, knownCases: [steps] }, async (s) => {
      const res = await post(s, '/v1/chat/completions', {
        model: 'm',
        tools,
        messages: [{ role: 'user', content: 'Plan my trip to Kyoto' }],
      });
      expect(openAiToolCall(res.json())?.name).toBe('book_hotel');
    });
  });
});
