/**
 * The official clients against the simulator: if the SDKs parse and reassemble what it sends
 * (plain, streamed, tool calls, errors), the wire formats are right where it matters.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from './server.js';

const QUESTION = 'What is the weather in Lisbon for the next 3 days?';
const PARAMETERS = {
  type: 'object',
  properties: { city: { type: 'string' }, days: { type: 'integer' } },
  required: ['city', 'days'],
};

let sim: RunningSimulator;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  sim = await startSimulator({
    seed: 3,
    requiredKey: 'sk-sim',
    models: {
      'sim-gpt': {},
      'sim-claude': {},
      'sim-limited': { errors: { rateLimit: { rate: 1, retryAfterSeconds: 2 } } },
      'sim-busy': { errors: { overloaded: { rate: 1 } } },
    },
  });
  openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-sim', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: sim.url, apiKey: 'sk-sim', maxRetries: 0 });
});
afterAll(async () => {
  await sim.close();
});

describe('openai client', () => {
  it('reads a plain completion with a tool call', async () => {
    const completion = await openai.chat.completions.create({
      model: 'sim-gpt',
      messages: [{ role: 'user', content: QUESTION }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: PARAMETERS } }],
    });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({
      city: 'Lisbon',
      days: 3,
    });
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('reassembles a streamed tool call and usage (ChatCompletionStream)', async () => {
    const stream = openai.chat.completions.stream({
      model: 'sim-gpt',
      messages: [{ role: 'user', content: QUESTION }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: PARAMETERS } }],
      stream_options: { include_usage: true },
    });
    const final = await stream.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({
      city: 'Lisbon',
      days: 3,
    });
    expect(final.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('streams text through the async iterator', async () => {
    const stream = await openai.chat.completions.create({
      model: 'sim-gpt',
      messages: [{ role: 'user', content: 'Explain rainbows.' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toMatch(/rainbows/);
  });

  it('raises typed errors with status and headers', async () => {
    const limited = openai.chat.completions.create({
      model: 'sim-limited',
      messages: [{ role: 'user', content: 'x' }],
    });
    await expect(limited).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    const error = await limited.then(
      () => undefined,
      (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
    );
    expect(error?.headers?.get('retry-after')).toBe('2');
    expect(error?.code).toBe('rate_limit_exceeded');
    await expect(
      openai.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const wrongKey = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'bad', maxRetries: 0 });
    await expect(
      wrongKey.chat.completions.create({ model: 'sim-gpt', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    expect((await openai.models.list()).data.map((m) => m.id)).toContain('sim-gpt');
  });
});

describe('anthropic client', () => {
  const tools = [
    { name: 'get_weather', description: 'Weather', input_schema: PARAMETERS as Anthropic.Tool.InputSchema },
  ];

  it('reads a message with a tool_use block', async () => {
    const message = await anthropic.messages.create({
      model: 'sim-claude',
      max_tokens: 256,
      messages: [{ role: 'user', content: QUESTION }],
      tools,
    });
    expect(message.stop_reason).toBe('tool_use');
    const block = message.content[0];
    expect(block?.type === 'tool_use' && block.input).toEqual({ city: 'Lisbon', days: 3 });
  });

  it('reassembles a streamed message (MessageStream), tool input and text alike', async () => {
    const toolStream = anthropic.messages.stream({
      model: 'sim-claude',
      max_tokens: 256,
      messages: [{ role: 'user', content: QUESTION }],
      tools,
    });
    const final = await toolStream.finalMessage();
    const block = final.content[0];
    expect(block?.type === 'tool_use' && block.input).toEqual({ city: 'Lisbon', days: 3 });
    expect(final.usage.output_tokens).toBeGreaterThan(1);
    const textStream = anthropic.messages.stream({
      model: 'sim-claude',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Explain rainbows.' }],
    });
    let deltas = '';
    textStream.on('text', (t) => {
      deltas += t;
    });
    const text = await textStream.finalText();
    expect(text).toMatch(/rainbows/);
    expect(deltas).toBe(text);
  });

  it('raises typed errors', async () => {
    const body = { max_tokens: 16, messages: [{ role: 'user' as const, content: 'x' }] };
    await expect(anthropic.messages.create({ model: 'sim-limited', ...body })).rejects.toBeInstanceOf(
      Anthropic.RateLimitError,
    );
    const busy = await anthropic.messages.create({ model: 'sim-busy', ...body }).catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(Anthropic.APIError);
    expect((busy as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    await expect(anthropic.messages.create({ model: 'nope', ...body })).rejects.toBeInstanceOf(
      Anthropic.NotFoundError,
    );
  });
});
