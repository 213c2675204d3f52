import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../simulator/index.js';
import { type FakeUpstream, openAiFrames, startFakeUpstream } from './test-support/fake-upstream.js';
import { type Harness, startGatewayHarness } from './test-support/gateway-harness.js';

let sim: RunningSimulator;
let fake: FakeUpstream;
let h: Harness;
let key: string;

const openAiVersion = (id: string, channel: string, upstreamModel: string, endpoint: string) => ({
  id,
  channel,
  providerKind: 'openai-compatible' as const,
  upstreamModel,
  endpoint,
});
const anthropicVersion = (id: string, channel: string, upstreamModel: string, endpoint: string) => ({
  id,
  channel,
  providerKind: 'anthropic' as const,
  upstreamModel,
  endpoint,
});

beforeAll(async () => {
  sim = await startSimulator({
    models: {
      ok: {},
      'cut-short': { errors: { malformed: { rate: 1 } } },
      html: { errors: { nonJson: { rate: 1 } } },
    },
  });
  fake = await startFakeUpstream((_call, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end('data: {not json\n\n');
  });
  const channels = ['gpt', 'gpt-cut', 'gpt-html', 'gpt-garbage', 'claude', 'claude-cut', 'claude-html'];
  h = await startGatewayHarness({
    gateway: { bodyLimitBytes: 64 * 1024 },
    versions: [
      openAiVersion('gpt-v1', 'gpt', 'ok', `${sim.url}/v1`),
      openAiVersion('gpt-cut-v1', 'gpt-cut', 'cut-short', `${sim.url}/v1`),
      openAiVersion('gpt-html-v1', 'gpt-html', 'html', `${sim.url}/v1`),
      openAiVersion('gpt-garbage-v1', 'gpt-garbage', 'garbage', `${fake.url}/v1`),
      anthropicVersion('claude-v1', 'claude', 'ok', sim.url),
      anthropicVersion('claude-cut-v1', 'claude-cut', 'cut-short', sim.url),
      anthropicVersion('claude-html-v1', 'claude-html', 'html', sim.url),
    ],
    tenants: [{ id: 'acme', channels: channels.map((c) => ({ channel: c, stableVersionId: `${c}-v1` })) }],
  });
  key = h.keys.acme ?? '';
});

afterAll(async () => {
  await h?.close();
  await sim?.close();
  await fake?.close();
});

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${h.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

const openAiError = (type: string, code?: string) => ({
  error: expect.objectContaining({ type, message: expect.any(String), ...(code ? { code } : {}) }),
});
const anthropicError = (type: string) => ({ type: 'error', error: { type, message: expect.any(String) } });

describe('bad requests, answered in the client wire format', () => {
  it('malformed JSON', async () => {
    const o = await post('/v1/chat/completions', '{"model": "gpt",');
    expect(o.status).toBe(400);
    expect(o.json).toEqual(openAiError('invalid_request_error', 'invalid_json'));
    const a = await post('/v1/messages', '{"model": ');
    expect(a.status).toBe(400);
    expect(a.json).toEqual(anthropicError('invalid_request_error'));
  });

  it('missing model', async () => {
    const o = await post('/v1/chat/completions', JSON.stringify({ messages: [] }));
    expect(o.status).toBe(400);
    expect(o.json.error).toMatchObject({ type: 'invalid_request_error', param: 'model' });
    const a = await post('/v1/messages', JSON.stringify({ max_tokens: 10, messages: [] }));
    expect(a.json).toEqual(anthropicError('invalid_request_error'));
  });

  it('unknown channel: 404 through both SDKs', async () => {
    const openai = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: key, maxRetries: 0 });
    const e = await openai.chat.completions
      .create({ model: 'no-such-channel', messages: [{ role: 'user', content: 'hi' }] })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.NotFoundError);
    expect((e as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');

    const anthropic = new Anthropic({ baseURL: h.url, apiKey: key, maxRetries: 0 });
    const a = await anthropic.messages
      .create({ model: 'no-such-channel', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((x: unknown) => x);
    expect(a).toBeInstanceOf(Anthropic.NotFoundError);
    expect((a as InstanceType<typeof Anthropic.NotFoundError>).error).toEqual(
      anthropicError('not_found_error'),
    );
  });

  it('wrong or missing key: 401 through both SDKs', async () => {
    const openai = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'sy-wrong', maxRetries: 0 });
    const e = await openai.chat.completions
      .create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.AuthenticationError);
    const anthropic = new Anthropic({ baseURL: h.url, apiKey: 'sy-wrong', maxRetries: 0 });
    const a = await anthropic.messages
      .create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((x: unknown) => x);
    expect(a).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((a as InstanceType<typeof Anthropic.AuthenticationError>).error).toEqual(
      anthropicError('authentication_error'),
    );
    const none = await post('/v1/chat/completions', '{}', { authorization: '' });
    expect(none.status).toBe(401);
    expect(none.json).toEqual(openAiError('invalid_request_error', 'missing_api_key'));
    expect(h.gateway.stats().counters.unauthenticated).toBeGreaterThanOrEqual(3);
  });

  it('oversized body: 413', async () => {
    const big = JSON.stringify({
      model: 'gpt',
      messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }],
    });
    const o = await post('/v1/chat/completions', big);
    expect(o.status).toBe(413);
    expect(o.json).toEqual(openAiError('invalid_request_error', 'request_too_large'));
    const a = await post('/v1/messages', big);
    expect(a.status).toBe(413);
    expect(a.json).toEqual(anthropicError('request_too_large'));
  });

  it('a channel of the other wire format', async () => {
    const o = await post('/v1/chat/completions', JSON.stringify({ model: 'claude', messages: [] }));
    expect(o.status).toBe(400);
    expect(o.json).toEqual(openAiError('invalid_request_error', 'wire_format_mismatch'));
  });
});

describe('broken upstreams, answered in the client wire format', () => {
  const openai = () => new OpenAI({ baseURL: `${h.url}/v1`, apiKey: key, maxRetries: 0 });
  const anthropic = () => new Anthropic({ baseURL: h.url, apiKey: key, maxRetries: 0 });
  const ask = [{ role: 'user' as const, content: 'Tell me a story' }];

  it('non-JSON upstream body: 502', async () => {
    const e = await openai()
      .chat.completions.create({ model: 'gpt-html', messages: ask })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect((e as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((e as InstanceType<typeof OpenAI.APIError>).type).toBe('server_error');
    const a = await anthropic()
      .messages.create({ model: 'claude-html', max_tokens: 50, messages: ask })
      .catch((x: unknown) => x);
    expect((a as InstanceType<typeof Anthropic.APIError>).status).toBe(502);
    expect((a as InstanceType<typeof Anthropic.APIError>).error).toEqual(anthropicError('api_error'));
  });

  it('a JSON body cut short: 502', async () => {
    const o = await post('/v1/chat/completions', JSON.stringify({ model: 'gpt-cut', messages: ask }));
    expect(o.status).toBe(502);
    expect(o.json).toEqual(openAiError('server_error', 'upstream_bad_response'));
  });

  it('a stream cut short after it started: the SDK raises an error, no hang', async () => {
    const stream = await openai().chat.completions.create({ model: 'gpt-cut', messages: ask, stream: true });
    let got = '';
    const e = await (async () => {
      for await (const chunk of stream) got += chunk.choices[0]?.delta.content ?? '';
    })().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect(String((e as Error).message)).toMatch(/ended before its end event/);
    expect(got.length).toBeGreaterThan(0);

    const s = await anthropic().messages.create({
      model: 'claude-cut',
      max_tokens: 50,
      messages: ask,
      stream: true,
    });
    const ae = await (async () => {
      for await (const _ of s) {
        // consume
      }
    })().catch((x: unknown) => x);
    expect(ae).toBeInstanceOf(Anthropic.APIError);
    expect((ae as InstanceType<typeof Anthropic.APIError>).error).toEqual(anthropicError('api_error'));
  });

  it('a garbage event before anything was sent: 502', async () => {
    const e = await openai()
      .chat.completions.create({ model: 'gpt-garbage', messages: ask, stream: true })
      .catch((x: unknown) => x);
    expect((e as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((e as InstanceType<typeof OpenAI.APIError>).code).toBe('upstream_bad_stream');
  });

  it('a garbage event mid-stream: earlier events arrive, then an error event', async () => {
    fake.handle((_call, res) => {
      const [first] = openAiFrames('garbage', ['Hello']);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(first);
      res.end('data: {"choices": [oops\n\n');
    });
    const stream = await openai().chat.completions.create({
      model: 'gpt-garbage',
      messages: ask,
      stream: true,
    });
    let chunks = 0;
    const e = await (async () => {
      for await (const _ of stream) chunks++;
    })().catch((x: unknown) => x);
    expect(chunks).toBe(1);
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect(String((e as Error).message)).toMatch(/malformed stream event/);
    await h.gateway.settle();
    const [event] = await h.telemetry.recent('acme', 1);
    expect(event).toMatchObject({ status: 200, stream: true, errorType: 'upstream_bad_stream' });
  });
});
