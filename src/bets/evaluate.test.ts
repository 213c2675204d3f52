import { describe, expect, it } from 'vitest';
import type { CaseSpec } from './bets-types.js';
import { checkCases } from './case-check.js';
import { compileCase } from './compiled-case.js';
import { evaluate } from './evaluate.js';
import { type Judge, JudgeAnswerError, parseJudgeAnswer } from './judge.js';
import type { Answer } from './run-types.js';

const signal = new AbortController().signal;
const weather: CaseSpec = {
  id: 'w1',
  input: {
    messages: [{ role: 'user', content: 'Weather in Lisbon in celsius?' }],
    tools: [
      {
        name: 'get_weather',
        parameters: {
          type: 'object',
          properties: { city: { type: 'string' }, unit: { enum: ['c', 'f'] } },
          required: ['city'],
          additionalProperties: false,
        },
      },
      { name: 'book', parameters: { type: 'object' } },
    ],
  },
  assertions: [
    { kind: 'tool_call', tool: 'get_weather', acceptedValues: { city: ['Lisbon'], unit: ['', 'c'] } },
  ],
};
const call = (name: string, args: unknown): Answer => ({
  text: null,
  toolCalls: [{ name, arguments: args, raw: JSON.stringify(args) }],
});

describe('case checks before storage', () => {
  it('refuses invalid schemas and regexes, unknown tools and impossible cases, each with its path', () => {
    const bad: CaseSpec = {
      id: 'bad',
      input: {
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ name: 't', parameters: { type: 'objekt' } }],
      },
      assertions: [
        { kind: 'tool_call', tool: 'nope' },
        { kind: 'format', check: 'regex', pattern: '([a-z' },
        { kind: 'format', check: 'json', extract: 'whole', schema: { type: 12 } },
        { kind: 'semantic', passScore: 0.5 },
      ],
    };
    const { valid, rejected } = checkCases([weather, bad, { id: 'w1' }, weather]);
    expect(valid.map((c) => c.id)).toEqual(['w1']);
    expect(rejected.map((r) => [r.index, r.caseId])).toEqual([
      [1, 'bad'],
      [2, 'w1'],
      [3, 'w1'],
    ]);
    const paths = rejected[0]?.details.map((d) => d.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/cases/1/input/tools/0/parameters/type',
        '/cases/1/assertions/0/tool',
        '/cases/1/assertions/1/pattern',
        '/cases/1/assertions/3',
      ]),
    );
    expect(rejected[0]?.details.find((d) => d.path.endsWith('/assertions/0/tool'))?.message).toMatch(
      /unknown tool 'nope': the case offers 't'/,
    );
    expect(rejected[0]?.details.some((d) => d.path.startsWith('/cases/1/assertions/2/schema'))).toBe(true);
    expect(rejected[2]?.details[0]?.message).toMatch(/appears twice/);
  });
});

describe('evaluate', () => {
  const c = compileCase(weather);

  it('passes a call with accepted arguments, at the schema level (case and punctuation free)', async () => {
    const ev = await evaluate(c, call('get_weather', { city: 'lisbon', unit: 'c' }), undefined, signal);
    expect(ev.status).toBe('pass');
  });

  it('fails the wrong tool, an unknown tool, schema violations, wrong values and non-JSON arguments', async () => {
    const messages = async (a: Answer) =>
      (await evaluate(c, a, undefined, signal)).outcomes.map((o) => o.message);
    expect(await messages(call('book', {}))).toEqual([
      "expected a call to 'get_weather'; got call to 'book'",
    ]);
    expect(await messages({ text: 'It is sunny', toolCalls: [] })).toEqual([
      `expected a call to 'get_weather'; got text "It is sunny"`,
    ]);
    const unknown = compileCase({ ...weather, assertions: [{ kind: 'tool_call' }] });
    expect((await evaluate(unknown, call('rm_rf', {}), undefined, signal)).outcomes[0]?.message).toBe(
      "called unknown tool 'rm_rf' (offered: get_weather, book)",
    );
    expect(await messages(call('get_weather', { city: 'Lisbon', days: 3 }))).toEqual([
      expect.stringMatching(/break its schema: .*additional properties/),
    ]);
    expect(await messages(call('get_weather', { city: 'Porto' }))).toEqual([
      `argument 'city': got "Porto", accepted ["Lisbon"]`,
    ]);
    expect(
      await messages({
        text: null,
        toolCalls: [{ name: 'get_weather', arguments: undefined, raw: '{city:' }],
      }),
    ).toEqual(["the arguments of 'get_weather' are not a JSON object: {city:"]);
  });

  it('checks formats: regex, JSON (whole or inside text) against a schema, and negation', async () => {
    const f = compileCase({
      id: 'f',
      input: { messages: [{ role: 'user', content: 'x' }], tools: [] },
      assertions: [
        { kind: 'format', check: 'regex', pattern: '^ORDER-\\d+', flags: 'm' },
        { kind: 'format', check: 'json', extract: 'anywhere', schema: { type: 'object', required: ['id'] } },
        { kind: 'format', check: 'contains', value: 'sorry', ignoreCase: true, negate: true },
      ],
    });
    const good = await evaluate(
      f,
      { text: 'Done.\nORDER-12 ```json\n{"id": 12}\n```', toolCalls: [] },
      undefined,
      signal,
    );
    expect(good.status).toBe('pass');
    const bad = await evaluate(f, { text: 'Sorry, {"x": 1}', toolCalls: [] }, undefined, signal);
    expect(bad.outcomes.map((o) => o.ok)).toEqual([false, false, false]);
    expect(bad.outcomes[2]?.message).toMatch(/expected the answer to not contain "sorry"/);
  });

  it('scores meaning with similarity without a judge, and with the judge when pinned', async () => {
    const s = compileCase({
      id: 's',
      input: { messages: [{ role: 'user', content: 'x' }], tools: [] },
      assertions: [{ kind: 'semantic', golden: 'the parcel arrives on Monday', passScore: 0.6 }],
    });
    expect(
      (await evaluate(s, { text: 'The parcel arrives Monday', toolCalls: [] }, undefined, signal)).status,
    ).toBe('pass');
    const judge: Judge = {
      score: async () => ({
        score: 0.4,
        reason: 'misses the day',
        inputTokens: 5,
        outputTokens: 2,
        cost: null,
        providerCalls: 1,
      }),
    };
    const judged = await evaluate(s, { text: 'The parcel arrives Monday', toolCalls: [] }, judge, signal);
    expect(judged).toMatchObject({ status: 'fail', usage: { inputTokens: 5, providerCalls: 1 } });
    const broken: Judge = {
      score: async () => {
        throw new JudgeAnswerError("the judge's answer is not JSON", 1);
      },
    };
    const errored = await evaluate(s, { text: 'x', toolCalls: [] }, broken, signal);
    expect(errored.status).toBe('error');
    expect(errored.outcomes[0]).toMatchObject({ error: true, message: "the judge's answer is not JSON" });
  });
});

describe('parseJudgeAnswer', () => {
  it('reads bare, fenced and embedded JSON; explains anything else', () => {
    expect(parseJudgeAnswer('{"score": 0.9, "reason": "same"}')).toEqual({ score: 0.9, reason: 'same' });
    expect(parseJudgeAnswer('Verdict:\n```json\n{"score": 1}\n```')).toEqual({ score: 1, reason: '' });
    expect(parseJudgeAnswer('I think they match.')).toMatch(/not JSON/);
    expect(parseJudgeAnswer('{"score": 7}')).toMatch(/no score between 0 and 1/);
    expect(parseJudgeAnswer(null)).toMatch(/no text answer/);
  });
});
