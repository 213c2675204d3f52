import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, sendJson, startFakeUpstream } from '../gateway/test-support/fake-upstream.js';
import type { ModelVersion } from '../registry/types.js';
import { HttpProviderClient } from './http-provider-client.js';
import { UpstreamError } from './provider-types.js';
import { readBody } from './read-body.js';

let fake: FakeUpstream;
let client: HttpProviderClient;

const version = (extra: Partial<ModelVersion>): ModelVersion => ({
  id: 'v',
  channel: 'c',
  providerKind: 'openai-compatible',
  upstreamModel: 'up',
  endpoint: `${fake.url}/v1`,
  credentialsRef: 'none',
  lifecycle: 'active',
  warmUntil: null,
  version: 1,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  ...extra,
});

beforeAll(async () => {
  fake = await startFakeUpstream((_call, res) => sendJson(res, 200, '{"ok":true}'));
  client = new HttpProviderClient({
    connectTimeoutMs: 1000,
    headersTimeoutMs: 300,
    bodyTimeoutMs: 300,
    maxConnectionsPerOrigin: 4,
    keepAliveTimeoutMs: 5000,
    env: { OPENAI_KEY: 'sk-openai', ANTHROPIC_KEY: 'sk-ant' },
  });
});
afterAll(async () => {
  await client.close();
  await fake.close();
});

const send = (v: ModelVersion, extra: { passHeaders?: Record<string, string> } = {}) =>
  client.send({
    version: v,
    body: '{"model":"up"}',
    stream: false,
    signal: new AbortController().signal,
    ...extra,
  });

describe('HttpProviderClient', () => {
  it('calls an OpenAI-compatible endpoint with a bearer credential from the environment', async () => {
    const res = await send(version({ credentialsRef: 'env:OPENAI_KEY' }));
    expect(res.status).toBe(200);
    expect(JSON.parse((await readBody(res.body, 1024)).toString())).toEqual({ ok: true });
    const call = fake.calls.at(-1);
    expect(call?.path).toBe('/v1/chat/completions');
    expect(call?.headers.authorization).toBe('Bearer sk-openai');
  });

  it('calls Anthropic at /v1/messages with x-api-key and the client-chosen anthropic-version', async () => {
    const res = await send(
      version({ providerKind: 'anthropic', endpoint: fake.url, credentialsRef: 'env:ANTHROPIC_KEY' }),
      {
        passHeaders: { 'anthropic-version': '2024-01-01' },
      },
    );
    await readBody(res.body, 1024);
    const call = fake.calls.at(-1);
    expect(call?.path).toBe('/v1/messages');
    expect(call?.headers['x-api-key']).toBe('sk-ant');
    expect(call?.headers['anthropic-version']).toBe('2024-01-01');
    expect(call?.headers.authorization).toBeUndefined();
  });

  it('fails cleanly when the credential is not configured', async () => {
    const e = await send(version({ credentialsRef: 'env:MISSING_KEY' })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UpstreamError);
    expect((e as UpstreamError).kind).toBe('credentials');
  });

  it('maps a refused connection and a silent provider to connect and timeout failures', async () => {
    const refused = await send(version({ endpoint: 'http://127.0.0.1:9/v1' })).catch((x: unknown) => x);
    expect((refused as UpstreamError).kind).toBe('connect');
    fake.handle(() => {});
    const silent = await send(version({})).catch((x: unknown) => x);
    expect((silent as UpstreamError).kind).toBe('timeout');
  });

  it('bounds what it reads', async () => {
    fake.handle((_c, res) => sendJson(res, 200, JSON.stringify({ pad: 'x'.repeat(4096) })));
    const res = await send(version({}));
    const e = await readBody(res.body, 1024).catch((x: unknown) => x);
    expect((e as UpstreamError).kind).toBe('too_large');
  });
});
