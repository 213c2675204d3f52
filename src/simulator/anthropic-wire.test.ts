import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from './server.js';
import { assembleAnthropicStream, parseSse, post, withSimulator } from './test-support/sim-client.js';

const TOOLS = [
  {
    name: 'get_stock_price',
    description: 'Get the latest stock price for a ticker symbol',
    input_schema: {
      type: 'object',
      properties: { ticker: { type: 'string' }, exchange: { type: 'string', enum: ['NYSE', 'NASDAQ'] } },
      required: ['ticker'],
    },
  },
  {
    name: 'send_email',
    description: 'Send an email message to a recipient',
    input_schema: {
      type: 'object',
      properties: { to: { type: 'string', format: 'email' }, body: { type: 'string' } },
      required: ['to', 'body'],
    },
  },
];
const QUESTION = "What is the stock price of 'AAPL' on NASDAQ right now?";

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 11, models: { 'sim-claude': {} } });
});
afterAll(async () => {
  await sim.close();
});

const messages = (body: Record<string, unknown>, headers?: Record<string, string>) =>
  post(
    sim,
    '/v1/messages',
    { model: 'sim-claude', max_tokens: 512, ...body },
    { 'x-api-key': 'k', ...headers },
  );

type Json = Record<string, unknown>;

describe('POST /v1/messages, plain', () => {
  it('answers with a message holding one text block, end_turn and usage', async () => {
    const res = await messages({
      system: 'You are terse.',
      messages: [{ role: 'user', content: 'Why do cats purr?' }],
    });
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'sim-claude',
      stop_reason: 'end_turn',
    });
    expect(String(body.id)).toMatch(/^msg_/);
    const content = body.content as Json[];
    expect(content).toHaveLength(1);
    expect(content[0]?.type).toBe('text');
    expect(String(content[0]?.text)).toMatch(/cats purr/);
    const usage = body.usage as Json;
    expect(usage.input_tokens).toBeGreaterThan(0);
    expect(usage.output_tokens).toBe(Math.ceil(String(content[0]?.text).length / 4));
  });

  it('calls a tool with a tool_use block (toolu_ id, name, input object) and stop_reason tool_use', async () => {
    const res = await messages({ messages: [{ role: 'user', content: QUESTION }], tools: TOOLS });
    const body = res.json();
    expect(body.stop_reason).toBe('tool_use');
    const block = (body.content as Json[])[0] as Json;
    expect(block.type).toBe('tool_use');
    expect(block.id).toMatch(/^toolu_[A-Za-z0-9]{24}$/);
    expect(block.name).toBe('get_stock_price');
    expect(block.input).toEqual({ ticker: 'AAPL', exchange: 'NASDAQ' });
  });

  it('honours tool_choice any / tool / none', async () => {
    const forced = await messages({
      messages: [{ role: 'user', content: QUESTION }],
      tools: TOOLS,
      tool_choice: { type: 'tool', name: 'send_email' },
    });
    const block = (forced.json().content as Json[])[0] as Json;
    expect(block.name).toBe('send_email');
    expect(String((block.input as Json).to)).toMatch(/@example\.com$/);
    const none = await messages({
      messages: [{ role: 'user', content: QUESTION }],
      tools: TOOLS,
      tool_choice: { type: 'none' },
    });
    expect((none.json().content as Json[])[0]?.type).toBe('text');
  });

  it('summarises tool_result blocks in text', async () => {
    const res = await messages({
      tools: TOOLS,
      messages: [
        { role: 'user', content: QUESTION },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_stock_price', input: { ticker: 'AAPL' } }],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '212.4 USD' }] },
          ],
        },
      ],
    });
    const body = res.json();
    expect(body.stop_reason).toBe('end_turn');
    expect((body.content as Json[])[0]?.text).toContain('get_stock_price returned 212.4 USD');
  });
});

describe('POST /v1/messages, streaming', () => {
  it('emits the events in the API order and reassembles to the plain message', async () => {
    const body = {
      model: 'sim-claude',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Why do cats purr?' }],
    };
    const plain = await withSimulator({ seed: 5, models: { 'sim-claude': {} } }, (s) =>
      post(s, '/v1/messages', body),
    );
    const streamed = await withSimulator({ seed: 5, models: { 'sim-claude': {} } }, (s) =>
      post(s, '/v1/messages', { ...body, stream: true }),
    );
    expect(streamed.headers.get('content-type')).toContain('text/event-stream');
    const assembled = assembleAnthropicStream(parseSse(streamed.text).events);
    const types = assembled.eventTypes;
    expect(types.slice(0, 3)).toEqual(['message_start', 'ping', 'content_block_start']);
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    const deltas = types.slice(3, -3);
    expect(deltas.length).toBeGreaterThan(1);
    expect(new Set(deltas)).toEqual(new Set(['content_block_delta']));
    expect(assembled.message).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [],
      stop_reason: null,
    });
    const final = plain.json();
    expect(assembled.content).toEqual(final.content);
    expect(assembled.stopReason).toBe('end_turn');
    expect(assembled.outputTokens).toBe((final.usage as Json).output_tokens);
  });

  it('streams tool input as input_json_delta fragments that parse to the input object', async () => {
    const res = await messages({
      stream: true,
      messages: [{ role: 'user', content: QUESTION }],
      tools: TOOLS,
    });
    const assembled = assembleAnthropicStream(parseSse(res.text).events);
    expect(assembled.inputJsonFragments).toBeGreaterThanOrEqual(2);
    const block = assembled.content[0] as Json;
    expect(block).toMatchObject({
      type: 'tool_use',
      name: 'get_stock_price',
      input: { ticker: 'AAPL', exchange: 'NASDAQ' },
    });
    expect(assembled.stopReason).toBe('tool_use');
  });
});

describe('Anthropic errors', () => {
  const expectEnvelope = (body: Json, type: string) => {
    expect(body.type).toBe('error');
    expect(Object.keys(body.error as Json).sort()).toEqual(['message', 'type']);
    expect((body.error as Json).type).toBe(type);
    return String((body.error as Json).message);
  };

  it('400 invalid_request_error naming the missing field', async () => {
    const noMax = await post(sim, '/v1/messages', {
      model: 'sim-claude',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(noMax.status).toBe(400);
    expect(expectEnvelope(noMax.json(), 'invalid_request_error')).toBe('max_tokens: Field required');
    const noModel = await post(sim, '/v1/messages', {
      max_tokens: 5,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(expectEnvelope(noModel.json(), 'invalid_request_error')).toBe('model: Field required');
    const badRole = await messages({ messages: [{ role: 'system', content: 'x' }] });
    expect(expectEnvelope(badRole.json(), 'invalid_request_error')).toMatch(/^messages\.0\.role/);
  });

  it('404 not_found_error for an unknown model', async () => {
    const res = await messages({ model: 'claude-9', messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(404);
    expect(expectEnvelope(res.json(), 'not_found_error')).toBe('model: claude-9');
  });

  it('401 authentication_error when the required key is wrong', async () => {
    await withSimulator({ models: { m: {} }, requiredKey: 'sk-ant' }, async (s) => {
      const body = { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] };
      const res = await post(s, '/v1/messages', body, { authorization: '', 'x-api-key': 'wrong' });
      expect(res.status).toBe(401);
      expectEnvelope(res.json(), 'authentication_error');
      expect((await post(s, '/v1/messages', body, { authorization: '', 'x-api-key': 'sk-ant' })).status).toBe(
        200,
      );
    });
  });
});
