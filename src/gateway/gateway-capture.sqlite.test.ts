import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../simulator/index.js';
import { type Harness, startGatewayHarness } from './test-support/gateway-harness.js';
import type { TrafficCapture } from './tool-call-check.js';

type Captured = Parameters<TrafficCapture['capture']>;
const captured: Captured[] = [];
let sim: RunningSimulator;
let h: Harness;

beforeAll(async () => {
  sim = await startSimulator({ models: { gpt: {}, claude: {} } });
  h = await startGatewayHarness({
    capture: { wants: (tenantId) => tenantId === 'acme', capture: (...args) => captured.push(args) },
    versions: [
      {
        id: 'gpt-1',
        channel: 'gpt',
        providerKind: 'openai-compatible',
        upstreamModel: 'gpt',
        endpoint: `${sim.url}/v1`,
      },
      {
        id: 'claude-1',
        channel: 'claude',
        providerKind: 'anthropic',
        upstreamModel: 'claude',
        endpoint: sim.url,
      },
    ],
    tenants: [
      {
        id: 'acme',
        channels: [
          { channel: 'gpt', stableVersionId: 'gpt-1' },
          { channel: 'claude', stableVersionId: 'claude-1' },
        ],
      },
    ],
  });
});

afterAll(async () => {
  await h?.close();
  await sim?.close();
});

describe('traffic capture', () => {
  it('offers each answered request, plain and streamed, with what the model answered', async () => {
    const openai = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: h.keys.acme ?? '', maxRetries: 0 });
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ];
    await openai.chat.completions.create({
      model: 'gpt',
      messages: [{ role: 'user', content: 'weather in Paris?' }],
      tools,
    });
    const stream = await new Anthropic({
      baseURL: h.url,
      apiKey: h.keys.acme ?? '',
      maxRetries: 0,
    }).messages.create({
      model: 'claude',
      max_tokens: 100,
      stream: true,
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    for await (const _ of stream) {
      // drain
    }
    expect(captured).toHaveLength(2);
    const [plain, streamed] = captured;
    expect(plain?.[0]).toBe('acme');
    expect((plain?.[1] as { messages: unknown[] } | undefined)?.messages).toEqual([
      { role: 'user', content: 'weather in Paris?' },
    ]);
    expect(plain?.[2].toolCalls.map((c) => c.name)).toEqual(['get_weather']);
    expect(JSON.parse(plain?.[2].toolCalls[0]?.arguments ?? '{}')).toHaveProperty('city');
    expect(plain?.[3]).toBe('openai');
    expect(streamed?.[2].text?.length).toBeGreaterThan(0);
    expect(streamed?.[3]).toBe('anthropic');
  });

  it('does not offer failed requests', async () => {
    const before = captured.length;
    const openai = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: h.keys.acme ?? '', maxRetries: 0 });
    await expect(
      openai.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toThrow();
    expect(captured.length).toBe(before);
  });
});
