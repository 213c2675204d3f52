import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from './server.js';
import { startSimulator } from './server.js';
import {
  assembleOpenAiStream,
  getJson,
  openAiText,
  openAiToolCall,
  parseSse,
  post,
  withSimulator,
} from './test-support/sim-client.js';

const WEATHER_TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Get the current weather forecast for a city',
      parameters: {
        type: 'object',
        properties: {
          city: { type: 'string' },
          days: { type: 'integer', minimum: 1, maximum: 14 },
          unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        },
        required: ['city', 'days'],
        additionalProperties: false,
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'book_flight',
      description: 'Book a flight ticket between two airports',
      parameters: {
        type: 'object',
        properties: { from: { type: 'string' }, to: { type: 'string' } },
        required: ['from', 'to'],
      },
    },
  },
];

const WEATHER_QUESTION = 'What will the weather be in Lisbon for the next 3 days, in celsius?';

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 7, models: { 'sim-gpt': {}, 'sim-other': {} } });
});
afterAll(async () => {
  await sim.close();
});

const chat = (body: Record<string, unknown>, headers?: Record<string, string>) =>
  post(sim, '/v1/chat/completions', { model: 'sim-gpt', ...body }, headers);

describe('POST /v1/chat/completions, plain', () => {
  it('answers a question with a chat.completion text reply and usage', async () => {
    const res = await chat({ messages: [{ role: 'user', content: 'Explain why the sky is blue.' }] });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = res.json();
    expect(body).toMatchObject({ object: 'chat.completion', model: 'sim-gpt' });
    expect(String(body.id)).toMatch(/^chatcmpl-/);
    const choice = (body.choices as Array<Record<string, unknown>>)[0];
    expect(choice?.finish_reason).toBe('stop');
    expect(openAiText(body)).toMatch(/sky is blue/);
    const usage = body.usage as Record<string, number>;
    expect(usage.prompt_tokens).toBeGreaterThan(0);
    expect(usage.completion_tokens).toBe(Math.ceil((openAiText(body) ?? '').length / 4));
    expect(usage.total_tokens).toBe((usage.prompt_tokens ?? 0) + (usage.completion_tokens ?? 0));
  });

  it('calls the best-matching tool with arguments that satisfy its schema, taken from the message', async () => {
    const res = await chat({ messages: [{ role: 'user', content: WEATHER_QUESTION }], tools: WEATHER_TOOLS });
    const body = res.json();
    const choice = (body.choices as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
    expect(choice.finish_reason).toBe('tool_calls');
    const message = choice.message as Record<string, unknown>;
    expect(message.content).toBeNull();
    const call = (message.tool_calls as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
    expect(call.id).toMatch(/^call_/);
    expect(call.type).toBe('function');
    expect(typeof (call.function as Record<string, unknown>).arguments).toBe('string');
    const parsed = openAiToolCall(body);
    expect(parsed?.name).toBe('get_weather');
    expect(parsed?.arguments).toEqual({ city: 'Lisbon', days: 3, unit: 'celsius' });
    const validate = new Ajv().compile(WEATHER_TOOLS[0]?.function.parameters ?? {});
    expect(validate(parsed?.arguments)).toBe(true);
  });

  it('honours tool_choice none and a named function', async () => {
    const none = await chat({
      messages: [{ role: 'user', content: WEATHER_QUESTION }],
      tools: WEATHER_TOOLS,
      tool_choice: 'none',
    });
    expect(openAiToolCall(none.json())).toBeUndefined();
    expect(openAiText(none.json())).toBeTruthy();
    const named = await chat({
      messages: [{ role: 'user', content: WEATHER_QUESTION }],
      tools: WEATHER_TOOLS,
      tool_choice: { type: 'function', function: { name: 'book_flight' } },
    });
    expect(openAiToolCall(named.json())?.name).toBe('book_flight');
  });

  it('answers in text after a tool result, summarising it, so agent loops end', async () => {
    const res = await chat({
      tools: WEATHER_TOOLS,
      messages: [
        { role: 'user', content: WEATHER_QUESTION },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Lisbon"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"forecast":"sunny","high":24}' },
      ],
    });
    const body = res.json();
    expect(openAiToolCall(body)).toBeUndefined();
    expect(openAiText(body)).toContain('get_weather returned {"forecast":"sunny","high":24}');
  });

  it('produces JSON for json_object and JSON satisfying a json_schema response_format', async () => {
    const object = await chat({
      messages: [{ role: 'user', content: 'Summarise the plot of Hamlet.' }],
      response_format: { type: 'json_object' },
    });
    expect(() => JSON.parse(openAiText(object.json()) ?? '')).not.toThrow();
    const schema = {
      type: 'object',
      properties: {
        title: { type: 'string' },
        year: { type: 'integer', minimum: 1500, maximum: 1700 },
        genres: { type: 'array', items: { type: 'string', enum: ['tragedy', 'comedy'] }, minItems: 1 },
      },
      required: ['title', 'year', 'genres'],
      additionalProperties: false,
    };
    const res = await chat({
      messages: [{ role: 'user', content: 'Describe Hamlet, a tragedy from 1600.' }],
      response_format: { type: 'json_schema', json_schema: { name: 'play', schema, strict: true } },
    });
    const value: unknown = JSON.parse(openAiText(res.json()) ?? '');
    expect(new Ajv().validate(schema, value)).toBe(true);
    expect(value).toMatchObject({ year: 1600, genres: ['tragedy'] });
  });

  it('produces JSON when the system prompt asks for it, shaped like its example', async () => {
    const res = await chat({
      messages: [
        { role: 'system', content: 'Reply only with JSON like {"answer": "...", "confidence": 0.5}.' },
        { role: 'user', content: 'Is Paris in France?' },
      ],
    });
    const value = JSON.parse(openAiText(res.json()) ?? '') as Record<string, unknown>;
    expect(typeof value.answer).toBe('string');
    expect(typeof value.confidence).toBe('number');
  });

  it('stops at max_tokens with finish_reason length', async () => {
    const res = await chat({
      messages: [{ role: 'user', content: 'Explain the history of the Roman empire in detail.' }],
      max_tokens: 3,
    });
    const body = res.json();
    expect(openAiText(body)).toHaveLength(12);
    expect((body.choices as Array<Record<string, unknown>>)[0]?.finish_reason).toBe('length');
  });
});

describe('POST /v1/chat/completions, streaming', () => {
  it('streams text as chat.completion.chunk events, then [DONE]; the same content as plain', async () => {
    const body = { model: 'sim-gpt', messages: [{ role: 'user', content: 'Explain why the sky is blue.' }] };
    const plain = await withSimulator({ seed: 3, models: { 'sim-gpt': {} } }, (s) =>
      post(s, '/v1/chat/completions', body),
    );
    const streamed = await withSimulator({ seed: 3, models: { 'sim-gpt': {} } }, (s) =>
      post(s, '/v1/chat/completions', { ...body, stream: true }),
    );
    expect(streamed.headers.get('content-type')).toContain('text/event-stream');
    const { events, partial } = parseSse(streamed.text);
    expect(partial).toBe('');
    const assembled = assembleOpenAiStream(events);
    expect(assembled.done).toBe(true);
    expect(events.at(-1)?.data).toBe('[DONE]');
    expect(assembled.chunks).toBeGreaterThan(3);
    expect(assembled.finishReason).toBe('stop');
    expect(assembled.usage).toBeNull();
    expect(assembled.content).toBe(openAiText(plain.json()));
  });

  it('streams a tool call: id, type and name first, then arguments in several fragments', async () => {
    const res = await chat({
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: WEATHER_QUESTION }],
      tools: WEATHER_TOOLS,
    });
    const { events } = parseSse(res.text);
    const first = JSON.parse(events[0]?.data ?? '{}');
    const firstCall = first.choices[0].delta.tool_calls[0];
    expect(firstCall).toMatchObject({
      index: 0,
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
    });
    expect(firstCall.id).toMatch(/^call_/);
    const assembled = assembleOpenAiStream(events);
    expect(assembled.toolCalls).toHaveLength(1);
    expect(assembled.argumentFragments[0]).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(assembled.toolCalls[0]?.arguments ?? '')).toEqual({
      city: 'Lisbon',
      days: 3,
      unit: 'celsius',
    });
    expect(assembled.finishReason).toBe('tool_calls');
    // include_usage: a final chunk with empty choices and the usage, before [DONE].
    const usageChunk = JSON.parse(events.at(-2)?.data ?? '{}');
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage.total_tokens).toBe(
      usageChunk.usage.prompt_tokens + usageChunk.usage.completion_tokens,
    );
  });
});

describe('GET /v1/models', () => {
  it('lists the configured models, in the OpenAI shape and, for Anthropic clients, in theirs', async () => {
    const openai = (await getJson(sim, '/v1/models')).body;
    expect(openai.object).toBe('list');
    const data = openai.data as Array<Record<string, unknown>>;
    expect(data.map((m) => m.id)).toEqual(['sim-gpt', 'sim-other']);
    expect(data[0]).toMatchObject({ object: 'model', owned_by: 'switchyard-simulator' });
    const anthropic = (await getJson(sim, '/v1/models', { 'anthropic-version': '2023-06-01' })).body;
    expect((anthropic.data as unknown[])[0]).toMatchObject({ type: 'model', id: 'sim-gpt' });
    expect(anthropic.has_more).toBe(false);
    expect((await getJson(sim, '/v1/models/sim-other')).body.id).toBe('sim-other');
    expect((await getJson(sim, '/v1/models/nope')).status).toBe(404);
    // A malformed path is a 500 in the provider's shape, and the server keeps serving.
    expect((await getJson(sim, '/v1/models/%E0')).body.error).toMatchObject({ type: 'server_error' });
    expect((await getJson(sim, '/health')).body).toEqual({ status: 'ok' });
  });
});

describe('OpenAI errors', () => {
  const expectEnvelope = (body: Record<string, unknown>) => {
    const error = body.error as Record<string, unknown>;
    expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param', 'type']);
    return error;
  };

  it('400 with the offending param for invalid requests', async () => {
    const noMessages = await post(sim, '/v1/chat/completions', { model: 'sim-gpt' });
    expect(noMessages.status).toBe(400);
    expect(expectEnvelope(noMessages.json())).toMatchObject({
      type: 'invalid_request_error',
      param: 'messages',
    });
    const badRole = await chat({ messages: [{ role: 'robot', content: 'x' }] });
    expect(expectEnvelope(badRole.json()).param).toBe('messages[0].role');
    const badTool = await chat({
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function', function: { name: 'math.factorial' } }],
    });
    expect(expectEnvelope(badTool.json()).param).toBe('tools[0].function.name');
    const notJson = await post(sim, '/v1/chat/completions', '{"model": ');
    expect(notJson.status).toBe(400);
    expect(expectEnvelope(notJson.json()).message).toMatch(/could not parse the JSON body/);
  });

  it('404 model_not_found for an unknown model, and for an unknown route', async () => {
    const res = await chat({ model: 'gpt-9', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(404);
    expect(expectEnvelope(res.json())).toMatchObject({
      code: 'model_not_found',
      type: 'invalid_request_error',
    });
    const route = await post(sim, '/v1/completions', {});
    expect(route.status).toBe(404);
    expect(expectEnvelope(route.json()).message).toBe('Invalid URL (POST /v1/completions)');
  });

  it('401 invalid_api_key when a key is required and missing or wrong; either header works', async () => {
    await withSimulator({ models: { m: {} }, requiredKey: 'sk-sim' }, async (s) => {
      const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
      const wrong = await post(s, '/v1/chat/completions', body, { authorization: 'Bearer nope' });
      expect(wrong.status).toBe(401);
      expect(expectEnvelope(wrong.json()).code).toBe('invalid_api_key');
      expect((await post(s, '/v1/chat/completions', body, { authorization: 'Bearer sk-sim' })).status).toBe(
        200,
      );
      expect(
        (await post(s, '/v1/chat/completions', body, { authorization: '', 'x-api-key': 'sk-sim' })).status,
      ).toBe(200);
    });
  });
});
