import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../shared/clock.js';
import { type RunningSimulator, startSimulator } from '../simulator/index.js';
import {
  type FakeUpstream,
  openAiCompletion,
  openAiFrames,
  sendJson,
  startFakeUpstream,
} from './test-support/fake-upstream.js';
import { type Harness, startGatewayHarness } from './test-support/gateway-harness.js';

let sim: RunningSimulator;
let fake: FakeUpstream;
let h: Harness;
let clock: ManualClock;
let openai: OpenAI;

const ask = [{ role: 'user' as const, content: 'Summarise the incident' }];
const serverError = (_: unknown, res: Parameters<Parameters<typeof startFakeUpstream>[0]>[1]) =>
  sendJson(
    res,
    500,
    JSON.stringify({ error: { message: 'boom', type: 'server_error', param: null, code: null } }),
  );

beforeAll(async () => {
  clock = new ManualClock(Date.UTC(2026, 5, 1));
  sim = await startSimulator({ models: { stable: {} } });
  fake = await startFakeUpstream(serverError);
  h = await startGatewayHarness({
    clock,
    gateway: {
      headersTimeoutMs: 1_000,
      breaker: { minRequests: 4, errorRate: 0.5, openMs: 10_000, windowMs: 60_000, buckets: 6 },
    },
    versions: [
      {
        id: 'm-stable',
        channel: 'm',
        providerKind: 'openai-compatible',
        upstreamModel: 'stable',
        endpoint: `${sim.url}/v1`,
      },
      {
        id: 'm-cand',
        channel: 'm',
        providerKind: 'openai-compatible',
        upstreamModel: 'cand',
        endpoint: `${fake.url}/v1`,
      },
      // Separate versions per concern: each has its own breaker, which errors in one test would open.
      {
        id: 'e-stable',
        channel: 'e',
        providerKind: 'openai-compatible',
        upstreamModel: 'stable',
        endpoint: `${sim.url}/v1`,
      },
      {
        id: 'e-cand',
        channel: 'e',
        providerKind: 'openai-compatible',
        upstreamModel: 'cand',
        endpoint: `${fake.url}/v1`,
      },
      ...['f', 't', 'd'].map((c) => ({
        id: `${c}-v1`,
        channel: c,
        providerKind: 'openai-compatible' as const,
        upstreamModel: c,
        endpoint: `${fake.url}/v1`,
      })),
    ],
    tenants: [
      {
        id: 'acme',
        channels: [
          {
            channel: 'm',
            stableVersionId: 'm-stable',
            candidateVersionId: 'm-cand',
            canaryPercent: 100,
            upgradeId: 'u1',
          },
          { channel: 'f', stableVersionId: 'f-v1' },
          { channel: 't', stableVersionId: 't-v1' },
          { channel: 'd', stableVersionId: 'd-v1' },
        ],
      },
      {
        id: 'strict',
        failurePolicy: 'error',
        channels: [
          {
            channel: 'e',
            stableVersionId: 'e-stable',
            candidateVersionId: 'e-cand',
            canaryPercent: 100,
            upgradeId: 'u2',
          },
        ],
      },
    ],
  });
  openai = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: h.keys.acme ?? '', maxRetries: 0 });
});

afterEach(() => {
  fake.handle(serverError);
});

afterAll(async () => {
  await h?.close();
  await sim?.close();
  await fake?.close();
});

describe('candidate failure', () => {
  it('retries a failed candidate call once on stable, plain and streamed', async () => {
    const before = fake.calls.length;
    const { data, response } = await openai.chat.completions
      .create({ model: 'm', messages: ask }, { headers: { 'x-session-id': 'fail-1' } })
      .withResponse();
    expect(data.choices[0]?.message.content).toBeTruthy();
    expect(response.headers.get('x-switchyard-version')).toBe('m-stable');
    expect(response.headers.get('x-switchyard-cohort')).toBe('stable');
    expect(response.headers.get('x-switchyard-fallback')).toBe('candidate_error');
    expect(fake.calls.length).toBe(before + 1);
    expect(fake.calls.at(-1)?.body.model).toBe('cand');
    expect(fake.calls.at(-1)?.headers['x-switchyard-tenant']).toBeUndefined();

    const stream = await openai.chat.completions.create(
      { model: 'm', messages: ask, stream: true },
      { headers: { 'x-session-id': 'fail-2' } },
    );
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text.length).toBeGreaterThan(0);
    expect(fake.calls.length).toBe(before + 2);

    await h.gateway.settle();
    const [streamed, plain] = await h.telemetry.recent('acme', 2);
    for (const e of [plain, streamed]) {
      expect(e).toMatchObject({
        cohort: 'canary',
        versionId: 'm-stable',
        fallback: 'candidate_error',
        status: 200,
      });
    }
  });

  it('returns the candidate failure to a tenant whose failure policy is error, without retrying on stable', async () => {
    const strict = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: h.keys.strict ?? '', maxRetries: 0 });
    const before = fake.calls.length;
    const err = await strict.chat.completions
      .create({ model: 'e', messages: ask }, { headers: { 'x-session-id': 'strict-1' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as InstanceType<typeof OpenAI.APIError>).headers?.get('x-switchyard-version')).toBe('e-cand');
    expect(fake.calls.length).toBe(before + 1);
  });

  it('opens the candidate breaker and then routes to stable without calling it; half-open probe closes it', async () => {
    // The first test left 2 failures; two more reach minRequests (4) at 100% errors.
    for (const s of ['b-1', 'b-2']) {
      await openai.chat.completions.create({ model: 'm', messages: ask }, { headers: { 'x-session-id': s } });
    }
    expect(h.gateway.health().degraded).toContain('model-version:m-cand');
    const before = fake.calls.length;
    const { response } = await openai.chat.completions
      .create({ model: 'm', messages: ask }, { headers: { 'x-session-id': 'b-3' } })
      .withResponse();
    expect(response.headers.get('x-switchyard-version')).toBe('m-stable');
    expect(response.headers.get('x-switchyard-fallback')).toBe('breaker_open');
    expect(fake.calls.length).toBe(before);
    expect(h.gateway.stats().counters.fallbacks.breaker_open).toBe(1);

    clock.advance(10_000);
    fake.handle((call, res) =>
      sendJson(res, 200, openAiCompletion(String(call.body.model), 'candidate says hi')),
    );
    const probe = await openai.chat.completions
      .create({ model: 'm', messages: ask }, { headers: { 'x-session-id': 'b-4' } })
      .withResponse();
    expect(probe.response.headers.get('x-switchyard-version')).toBe('m-cand');
    expect(probe.response.headers.get('x-switchyard-cohort')).toBe('canary');
    expect(probe.response.headers.get('x-switchyard-fallback')).toBeNull();
    expect(probe.data.choices[0]?.message.content).toBe('candidate says hi');
    expect(h.gateway.health().degraded).not.toContain('model-version:m-cand');
  });
});

describe('rate limits', () => {
  it('waits out a short Retry-After and retries once', async () => {
    let n = 0;
    fake.handle((call, res) => {
      if (n++ === 0)
        sendJson(res, 429, '{"error":{"message":"slow down","type":"rate_limit_error"}}', {
          'retry-after': '0',
        });
      else sendJson(res, 200, openAiCompletion(String(call.body.model), 'after the wait'));
    });
    const r = await openai.chat.completions.create({ model: 'f', messages: ask });
    expect(r.choices[0]?.message.content).toBe('after the wait');
    expect(n).toBe(2);
  });

  it('passes a long Retry-After to the client', async () => {
    fake.handle((_call, res) =>
      sendJson(
        res,
        429,
        '{"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":null}}',
        {
          'retry-after': '30',
        },
      ),
    );
    const e = await openai.chat.completions.create({ model: 'f', messages: ask }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.RateLimitError);
    expect((e as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after')).toBe('30');
  });
});

describe('timeouts', () => {
  it('answers 504 in the client format when the provider sends nothing in time', async () => {
    fake.handle(() => {});
    const e = await openai.chat.completions.create({ model: 't', messages: ask }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect((e as InstanceType<typeof OpenAI.APIError>).status).toBe(504);
    expect((e as InstanceType<typeof OpenAI.APIError>).code).toBe('upstream_timeout');
  });
});

describe('client disconnect', () => {
  it('aborts the upstream stream when the client goes away mid-stream', async () => {
    let started!: () => void;
    const upstreamStarted = new Promise<void>((r) => {
      started = r;
    });
    fake.handle((_call, res) => {
      const [first] = openAiFrames('d', ['partial']);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(first);
      started();
      // ...and never finishes on its own.
    });
    const controller = new AbortController();
    const res = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.keys.acme}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'd', messages: ask, stream: true }),
      signal: controller.signal,
    });
    await upstreamStarted;
    const reader = res.body?.getReader();
    await reader?.read();
    controller.abort();
    const call = fake.calls.at(-1);
    await call?.closed;
    expect(call?.aborted).toBe(true);
  });

  it('aborts a pending non-streamed upstream call', async () => {
    let received!: () => void;
    const upstreamReceived = new Promise<void>((r) => {
      received = r;
    });
    fake.handle(() => received());
    const controller = new AbortController();
    const pending = fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.keys.acme}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'd', messages: ask }),
      signal: controller.signal,
    }).catch(() => undefined);
    await upstreamReceived;
    controller.abort();
    await pending;
    const call = fake.calls.at(-1);
    await call?.closed;
    expect(call?.aborted).toBe(true);
    await h.gateway.settle();
    const [event] = await h.telemetry.recent('acme', 1);
    expect(event).toMatchObject({ status: 499, errorType: 'client_closed' });
  });
});
