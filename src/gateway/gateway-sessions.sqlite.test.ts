import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../simulator/index.js';
import {
  type FakeUpstream,
  openAiCompletion,
  sendJson,
  startFakeUpstream,
} from './test-support/fake-upstream.js';
import { type Harness, startGatewayHarness } from './test-support/gateway-harness.js';

let sim: RunningSimulator;
let h: Harness;
let openai: OpenAI;

const ask = (content: string) => [{ role: 'user' as const, content }];

async function served(session: string, channel = 'm') {
  const { response } = await openai.chat.completions
    .create({ model: channel, messages: ask('hello') }, { headers: { 'x-session-id': session } })
    .withResponse();
  return {
    version: response.headers.get('x-switchyard-version'),
    cohort: response.headers.get('x-switchyard-cohort'),
    session: response.headers.get('x-switchyard-session'),
    reset: response.headers.get('x-switchyard-session-reset'),
  };
}

beforeAll(async () => {
  sim = await startSimulator({ models: { stable: {}, cand: {} } });
  h = await startGatewayHarness({
    random: () => 0,
    versions: [
      {
        id: 'm-v1',
        channel: 'm',
        providerKind: 'openai-compatible',
        upstreamModel: 'stable',
        endpoint: `${sim.url}/v1`,
      },
      {
        id: 'm-v2',
        channel: 'm',
        providerKind: 'openai-compatible',
        upstreamModel: 'cand',
        endpoint: `${sim.url}/v1`,
      },
    ],
    tenants: [
      {
        id: 'acme',
        channels: [
          {
            channel: 'm',
            stableVersionId: 'm-v1',
            candidateVersionId: 'm-v2',
            canaryPercent: 0,
            upgradeId: 'u1',
          },
        ],
      },
    ],
  });
  openai = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: h.keys.acme ?? '', maxRetries: 0 });
});

afterAll(async () => {
  await h?.close();
  await sim?.close();
});

describe('sessions through the gateway', () => {
  it('keeps sessions on their version while the canary percentage moves', async () => {
    expect(await served('early')).toMatchObject({
      version: 'm-v1',
      cohort: 'stable',
      session: 'early',
      reset: null,
    });
    await h.registry.updateChannel(h.ctx, 'acme', 'm', { canaryPercent: 100 });
    await h.refresh();
    expect((await served('early')).version).toBe('m-v1');
    expect(await served('late')).toMatchObject({ version: 'm-v2', cohort: 'canary' });
    await h.registry.updateChannel(h.ctx, 'acme', 'm', { canaryPercent: 0 });
    await h.refresh();
    expect((await served('late')).version).toBe('m-v2');
    expect((await served('later')).version).toBe('m-v1');
  });

  it('fingerprints a conversation without x-session-id, so every turn lands on the same session', async () => {
    const opening = [
      { role: 'system' as const, content: 'You are a billing agent.' },
      { role: 'user' as const, content: 'My invoice is wrong' },
    ];
    const first = await openai.chat.completions.create({ model: 'm', messages: opening }).withResponse();
    const second = await openai.chat.completions
      .create({
        model: 'm',
        messages: [
          ...opening,
          { role: 'assistant', content: 'Which invoice?' },
          { role: 'user', content: 'INV-7' },
        ],
      })
      .withResponse();
    const id = first.response.headers.get('x-switchyard-session');
    expect(id).toMatch(/^fp-/);
    expect(second.response.headers.get('x-switchyard-session')).toBe(id);
    const other = await openai.chat.completions
      .create({ model: 'm', messages: ask('another task') })
      .withResponse();
    expect(other.response.headers.get('x-switchyard-session')).not.toBe(id);
  });

  it('tells a hard-cut session that it moved, once', async () => {
    await h.registry.updateChannel(h.ctx, 'acme', 'm', { canaryPercent: 100 });
    await h.refresh();
    expect((await served('cut-me')).version).toBe('m-v2');
    await h.pins.hardCut('acme', 'm-v2');
    await h.registry.updateChannel(h.ctx, 'acme', 'm', { canaryPercent: 0 });
    await h.refresh();
    expect(await served('cut-me')).toMatchObject({ version: 'm-v1', cohort: 'stable', reset: 'true' });
    expect(await served('cut-me')).toMatchObject({ version: 'm-v1', reset: null });
    expect(h.gateway.stats().counters.sessionResets).toBe(1);
  });

  it('a frozen tenant keeps its live sessions and starts new ones on stable', async () => {
    await h.registry.updateChannel(h.ctx, 'acme', 'm', { canaryPercent: 100 });
    await h.refresh();
    expect((await served('before-freeze')).version).toBe('m-v2');
    await h.registry.updateTenant(h.ctx, 'acme', { frozen: true });
    await h.refresh();
    expect((await served('before-freeze')).version).toBe('m-v2');
    expect((await served('after-freeze')).version).toBe('m-v1');
    await h.registry.updateTenant(h.ctx, 'acme', { frozen: false });
    await h.refresh();
  });
});

describe('feedback', () => {
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${h.url}/v1/feedback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.keys.acme}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('stores task outcomes with the version and cohort of the session', async () => {
    await served('fb-session');
    const res = await post({
      session_id: 'fb-session',
      task_id: 'task-1',
      outcome: 'failure',
      downstream_errors: 2,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      object: 'feedback',
      session_id: 'fb-session',
      version_id: 'm-v2',
      cohort: 'canary',
    });
    const [stored] = await h.feedback.listForTenant('acme', 0, 10);
    expect(stored).toMatchObject({
      sessionId: 'fb-session',
      taskId: 'task-1',
      channel: 'm',
      versionId: 'm-v2',
      cohort: 'canary',
      outcome: 'failure',
      downstreamErrors: 2,
    });
  });

  it('rejects invalid feedback in the client format', async () => {
    const bad = await post({ session_id: 's', outcome: 'meh' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { type: string; param: string } }).error).toMatchObject({
      type: 'invalid_request_error',
      param: 'outcome',
    });
    const none = await post({ session_id: 's' }, { 'anthropic-version': '2023-06-01' });
    expect(await none.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const noSession = await post({ outcome: 'success' });
    expect(noSession.status).toBe(400);
    const wrongKey = await post({ session_id: 's', outcome: 'success' }, { authorization: 'Bearer nope' });
    expect(wrongKey.status).toBe(401);
  });
});

describe('shadow mode', () => {
  let fake: FakeUpstream;
  let release: () => void = () => {};
  let shadowH: Harness;

  beforeAll(async () => {
    const gate = new Promise<void>((r) => {
      release = r;
    });
    fake = await startFakeUpstream((call, res) => {
      void gate.then(() => sendJson(res, 200, openAiCompletion(String(call.body.model), 'candidate text')));
    });
    shadowH = await startGatewayHarness({
      random: () => 0,
      gateway: { shadow: { queueSize: 1, concurrency: 1 }, upstreamTenantHeader: true },
      versions: [
        {
          id: 's-v1',
          channel: 's',
          providerKind: 'openai-compatible',
          upstreamModel: 'stable',
          endpoint: `${sim.url}/v1`,
        },
        {
          id: 's-v2',
          channel: 's',
          providerKind: 'openai-compatible',
          upstreamModel: 'cand',
          endpoint: `${fake.url}/v1`,
        },
      ],
      tenants: [
        {
          id: 'acme',
          channels: [
            { channel: 's', stableVersionId: 's-v1', candidateVersionId: 's-v2', shadowPercent: 100 },
          ],
        },
      ],
    });
  });

  afterAll(async () => {
    release();
    await shadowH?.close();
    await fake?.close();
  });

  it('answers from stable, mirrors to the candidate off the response path, and drops when the queue is full', async () => {
    const client = new OpenAI({
      baseURL: `${shadowH.url}/v1`,
      apiKey: shadowH.keys.acme ?? '',
      maxRetries: 0,
    });
    // The candidate holds every call, so: one shadow call runs, one waits, the rest are dropped.
    for (let i = 0; i < 4; i++) {
      const { response } = await client.chat.completions
        .create({ model: 's', messages: ask(`question ${i}`) })
        .withResponse();
      expect(response.headers.get('x-switchyard-version')).toBe('s-v1');
    }
    expect(shadowH.gateway.stats().shadow.queue).toMatchObject({ accepted: 2, dropped: 2 });
    release();
    await shadowH.gateway.settle();
    const pairs = await shadowH.shadow.listForTenant('acme', 10);
    expect(pairs).toHaveLength(2);
    for (const p of pairs) {
      expect(p.stable).toMatchObject({ versionId: 's-v1', status: 200, error: null });
      expect(p.stable.text?.length).toBeGreaterThan(0);
      expect(p.candidate).toMatchObject({
        versionId: 's-v2',
        status: 200,
        error: null,
        text: 'candidate text',
      });
    }
    expect(fake.calls.every((c) => c.body.stream !== true && c.body.model === 'cand')).toBe(true);
    expect(fake.calls.every((c) => c.headers['x-switchyard-tenant'] === 'acme')).toBe(true);
    const events = await shadowH.telemetry.recent('acme', 10);
    expect(events.filter((e) => e.shadowed)).toHaveLength(2);
  });

  it('mirrors a streamed request as a plain one, comparing the streamed text', async () => {
    const client = new OpenAI({
      baseURL: `${shadowH.url}/v1`,
      apiKey: shadowH.keys.acme ?? '',
      maxRetries: 0,
    });
    const stream = await client.chat.completions.create({
      model: 's',
      messages: ask('stream me'),
      stream: true,
    });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    await shadowH.gateway.settle();
    const pairs = await shadowH.shadow.listForTenant('acme', 10);
    const last = pairs.at(-1);
    expect(last?.stable.text).toBe(text);
    expect(last?.candidate.text).toBe('candidate text');
    expect(fake.calls.at(-1)?.body.stream).toBe(false);
  });
});

describe('telemetry under back-pressure', () => {
  it('never makes a request wait for telemetry: a full buffer drops and counts', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const t = await startGatewayHarness({
      gateway: { telemetry: { capacity: 2, batchSize: 1, flushIntervalMs: 60_000 } },
      telemetryStore: { append: () => gate },
      versions: [
        {
          id: 'x-v1',
          channel: 'x',
          providerKind: 'openai-compatible',
          upstreamModel: 'stable',
          endpoint: `${sim.url}/v1`,
        },
      ],
      tenants: [{ id: 'acme', channels: [{ channel: 'x', stableVersionId: 'x-v1' }] }],
    });
    const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: t.keys.acme ?? '', maxRetries: 0 });
    for (let i = 0; i < 5; i++) {
      const r = await client.chat.completions.create({ model: 'x', messages: ask(`q${i}`) });
      expect(r.choices[0]?.message.content).toBeTruthy();
    }
    // One batch is stuck in the store, two events wait in the ring, the rest were dropped.
    expect(t.gateway.stats().telemetry).toMatchObject({ accepted: 3, dropped: 2, buffered: 2, written: 0 });
    release();
    await t.close();
  });
});
