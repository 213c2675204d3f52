import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../simulator/index.js';
import { type Harness, startGatewayHarness } from './test-support/gateway-harness.js';

const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Get the current weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', description: 'the city' } },
      required: ['city'],
    },
  },
};

let sim: RunningSimulator;
let h: Harness;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  sim = await startSimulator({
    seed: 7,
    models: { 'sim-gpt-2026-01': {}, 'sim-claude-2026-01': {} },
  });
  h = await startGatewayHarness({
    versions: [
      {
        id: 'gpt-5-turbo-2026-01',
        channel: 'gpt-5-turbo',
        providerKind: 'openai-compatible',
        upstreamModel: 'sim-gpt-2026-01',
        endpoint: `${sim.url}/v1`,
      },
      {
        id: 'claude-next-2026-01',
        channel: 'claude-next',
        providerKind: 'anthropic',
        upstreamModel: 'sim-claude-2026-01',
        endpoint: sim.url,
      },
    ],
    tenants: [
      {
        id: 'acme',
        channels: [
          { channel: 'gpt-5-turbo', stableVersionId: 'gpt-5-turbo-2026-01' },
          { channel: 'claude-next', stableVersionId: 'claude-next-2026-01' },
        ],
      },
    ],
  });
  const key = h.keys.acme ?? '';
  openai = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: key, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: h.url, apiKey: key, maxRetries: 0 });
});

afterAll(async () => {
  await h?.close();
  await sim?.close();
});

describe('the official OpenAI SDK through the gateway', () => {
  it('gets a plain completion, with the version headers', async () => {
    const { data, response } = await openai.chat.completions
      .create({ model: 'gpt-5-turbo', messages: [{ role: 'user', content: 'Say hello to the team' }] })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(typeof data.choices[0]?.message.content).toBe('string');
    expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(data.model).toBe('sim-gpt-2026-01');
    expect(response.headers.get('x-switchyard-version')).toBe('gpt-5-turbo-2026-01');
    expect(response.headers.get('x-switchyard-cohort')).toBe('stable');
    expect(response.headers.get('x-switchyard-session')).toMatch(/^fp-[0-9a-f]{32}$/);
    expect(response.headers.get('x-switchyard-session-reset')).toBeNull();
  });

  it('streams a completion chunk by chunk', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-5-turbo',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Write a short note about the release' }],
    });
    let text = '';
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).toBeGreaterThan(2);
    expect(text.length).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('returns tool calls, plain and streamed', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'What is the weather in Paris right now?' },
    ];
    const plain = await openai.chat.completions.create({
      model: 'gpt-5-turbo',
      messages,
      tools: [WEATHER_TOOL],
    });
    const call = plain.choices[0]?.message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    expect(call?.type === 'function' ? call.function.name : '').toBe('get_weather');
    const args = JSON.parse(call?.type === 'function' ? call.function.arguments : '{}') as { city?: string };
    expect(typeof args.city).toBe('string');

    const runner = openai.chat.completions.stream({ model: 'gpt-5-turbo', messages, tools: [WEATHER_TOOL] });
    const final = await runner.finalChatCompletion();
    const streamed = final.choices[0]?.message.tool_calls?.[0];
    expect(streamed?.type === 'function' ? streamed.function.name : '').toBe('get_weather');
    expect(JSON.parse(streamed?.type === 'function' ? streamed.function.arguments : '{}')).toEqual(args);
  });

  it('lists the tenant channels as models', async () => {
    const page = await openai.models.list();
    expect(page.data.map((m) => m.id)).toEqual(['claude-next', 'gpt-5-turbo']);
    const one = await openai.models.retrieve('gpt-5-turbo');
    expect(one).toMatchObject({ id: 'gpt-5-turbo', object: 'model', owned_by: 'switchyard' });
  });
});

describe('the official Anthropic SDK through the gateway', () => {
  it('gets a plain message', async () => {
    const { data, response } = await anthropic.messages
      .create({
        model: 'claude-next',
        max_tokens: 200,
        system: 'You are terse.',
        messages: [{ role: 'user', content: 'Say hello to the team' }],
      })
      .withResponse();
    expect(data.type).toBe('message');
    const block = data.content[0];
    expect(block?.type).toBe('text');
    expect(block?.type === 'text' ? block.text.length : 0).toBeGreaterThan(0);
    expect(data.usage.output_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-switchyard-version')).toBe('claude-next-2026-01');
  });

  it('streams a message', async () => {
    const stream = anthropic.messages.stream({
      model: 'claude-next',
      max_tokens: 200,
      messages: [{ role: 'user', content: 'Write a short note about the release' }],
    });
    let deltas = 0;
    stream.on('text', () => {
      deltas++;
    });
    const final = await stream.finalMessage();
    expect(deltas).toBeGreaterThan(1);
    expect(final.content[0]?.type).toBe('text');
    expect(final.stop_reason).toBe('end_turn');
  });

  it('returns tool_use blocks, plain and streamed', async () => {
    const tools: Anthropic.Tool[] = [
      {
        name: 'get_weather',
        description: 'Get the current weather for a city',
        input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    ];
    const messages: Anthropic.MessageParam[] = [
      { role: 'user', content: 'What is the weather in Paris right now?' },
    ];
    const plain = await anthropic.messages.create({ model: 'claude-next', max_tokens: 200, tools, messages });
    const use = plain.content.find((b) => b.type === 'tool_use');
    expect(use?.type === 'tool_use' ? use.name : '').toBe('get_weather');
    expect(plain.stop_reason).toBe('tool_use');

    const final = await anthropic.messages
      .stream({ model: 'claude-next', max_tokens: 200, tools, messages })
      .finalMessage();
    const streamed = final.content.find((b) => b.type === 'tool_use');
    expect(streamed?.type === 'tool_use' ? streamed.input : null).toEqual(
      use?.type === 'tool_use' ? use.input : {},
    );
  });

  it('lists models in the Anthropic shape', async () => {
    const page = await anthropic.models.list();
    expect(page.data.map((m) => m.id)).toEqual(['claude-next', 'gpt-5-turbo']);
    expect(page.data[0]?.type).toBe('model');
  });
});

describe('telemetry', () => {
  it('records one event per request, with tool names, tokens and timings', async () => {
    const before = h.gateway.stats().telemetry.accepted;
    await openai.chat.completions.create({
      model: 'gpt-5-turbo',
      messages: [{ role: 'user', content: 'What is the weather in Oslo?' }],
      tools: [WEATHER_TOOL],
    });
    await h.gateway.settle();
    const stats = h.gateway.stats().telemetry;
    expect(stats.accepted).toBe(before + 1);
    expect(stats.written).toBe(stats.accepted);
    expect(stats.dropped).toBe(0);
    const [last] = await h.telemetry.recent('acme', 1);
    expect(last).toMatchObject({
      tenantId: 'acme',
      channel: 'gpt-5-turbo',
      versionId: 'gpt-5-turbo-2026-01',
      cohort: 'stable',
      wire: 'openai',
      stream: false,
      status: 200,
      errorType: null,
      toolNames: ['get_weather'],
    });
    expect(last?.inputTokens).toBeGreaterThan(0);
    expect(last?.latencyMs).toBeGreaterThan(0);
    expect(last?.ttfbMs).toBeGreaterThan(0);
    expect(last?.promptHash).toMatch(/^[0-9a-f]{32}$/);
  });
});
