import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../config/load-config.js';
import { type RunningSimulator, startSimulator } from '../simulator/index.js';
import { createSwitchyard, createSwitchyardProcess, type SwitchyardProcess } from './compose.js';

/**
 * `process.role` splits a process: a gateway serves model traffic but never moves a rollout; a
 * controller moves rollouts but refuses model traffic. Two processes of those roles share one
 * SQLite file here, as a gateway and a controller share PostgreSQL in a scaled deployment.
 */
const TOKEN = 'sya-process-roles-test-token-000000';
const SYSTEM = { actor: 'test:system' };
let dir: string;
let sim: RunningSimulator;
let gateway: SwitchyardProcess;
let controller: SwitchyardProcess | undefined;
let gatewayUrl: string;
let controllerUrl = '';
let apiKey: string;

const configFor = (sqlitePath: string) =>
  validateConfig({
    server: { port: 0 },
    storage: { sqlitePath },
    log: { level: 'silent' },
    // The controller ticks often and the gateway re-reads the registry often (no shared bus here).
    controller: { tickMs: 100, leaseMs: 1000 },
    snapshot: { storeCheckIntervalMs: 200 },
    classification: { enabled: false },
  });

const admin = async (base: string, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${base}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

const chat = (base: string, path = '/v1/chat/completions', headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({
      model: 'assistant',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hello' }],
    }),
  });

const phaseOf = async (base: string, upgradeId: string) => {
  const s = await admin(base, 'GET', `/upgrades/${upgradeId}`);
  return (s.body.rollouts as Array<{ phase: string }>)[0]?.phase;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sy-roles-'));
  sim = await startSimulator({ seed: 5, models: { 'sim-01': {}, 'sim-02': {} } });
  gateway = await createSwitchyardProcess(configFor(join(dir, 'switchyard.db')), {
    role: 'gateway',
    env: { SWITCHYARD_ADMIN_TOKEN: TOKEN },
  });
  gatewayUrl = await gateway.listen();
  const model = {
    channel: 'assistant',
    providerKind: 'openai-compatible' as const,
    endpoint: `${sim.url}/v1`,
  };
  await gateway.registry.createModel(SYSTEM, {
    ...model,
    id: 'assistant-01',
    upstreamModel: 'sim-01',
    lifecycle: 'active',
  });
  await gateway.registry.createModel(SYSTEM, { ...model, id: 'assistant-02', upstreamModel: 'sim-02' });
  await gateway.registry.createTenant(SYSTEM, { id: 'acme', name: 'Acme', rolloutGroup: 'pioneers' });
  apiKey = (await gateway.registry.createApiKey(SYSTEM, 'acme', { label: 'agents' })).secret;
  await gateway.registry.bindChannel(SYSTEM, 'acme', {
    channel: 'assistant',
    stableVersionId: 'assistant-01',
  });
  await gateway.snapshots.reload();
});

afterAll(async () => {
  await controller?.close();
  await gateway?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('process roles', () => {
  it('createSwitchyard builds every part, and refuses a configuration of another role', async () => {
    await expect(createSwitchyard(validateConfig({ process: { role: 'gateway' } }))).rejects.toThrow(
      /role all, not gateway/,
    );
  });

  it('a gateway serves model traffic and reports its role, but runs no controller', async () => {
    expect(gateway.role).toBe('gateway');
    expect(gateway.controller).toBeNull();
    expect(gateway.gateway).not.toBeNull();
    const res = await chat(gatewayUrl, '/v1/chat/completions', { 'x-session-id': 's-1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-switchyard-version')).toBe('assistant-01');
    await res.arrayBuffer();
    expect(await (await fetch(`${gatewayUrl}/readyz`)).json()).toMatchObject({
      status: 'ok',
      role: 'gateway',
    });
    expect(await (await fetch(`${gatewayUrl}/healthz`)).json()).toEqual({ status: 'ok', role: 'gateway' });
    const status = await admin(gatewayUrl, 'GET', '/status');
    expect(status.body).toMatchObject({ role: 'gateway' });
  });

  it('an upgrade does not move on a gateway alone; a controller on the same database moves it', async () => {
    const started = await admin(gatewayUrl, 'POST', '/upgrades', {
      channel: 'assistant',
      fromVersionId: 'assistant-01',
      toVersionId: 'assistant-02',
    });
    expect(started.status).toBe(201);
    const upgradeId = (started.body.upgrade as { id: string }).id;
    // Ten controller ticks' worth of time: a controller would have taken the rollout out of pending.
    const until = Date.now() + 1000;
    while (Date.now() < until) {
      expect(await phaseOf(gatewayUrl, upgradeId)).toBe('pending');
      await new Promise((r) => setTimeout(r, 100));
    }

    controller = await createSwitchyardProcess(configFor(join(dir, 'switchyard.db')), {
      role: 'controller',
      env: { SWITCHYARD_ADMIN_TOKEN: TOKEN },
    });
    expect(controller.controller).not.toBeNull();
    expect(controller.gateway).toBeNull();
    expect(controller.rollups).toBeNull();
    controllerUrl = await controller.listen();
    let phase = await phaseOf(controllerUrl, upgradeId);
    for (let i = 0; i < 100 && phase === 'pending'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      phase = await phaseOf(controllerUrl, upgradeId);
    }
    expect(phase).not.toBe('pending');
  });

  it('a controller refuses model traffic in the wire format the client speaks, and reports its role', async () => {
    if (!controllerUrl) throw new Error('the previous test starts the controller');
    const base = controllerUrl;
    const openai = await chat(base);
    expect(openai.status).toBe(503);
    expect(openai.headers.get('x-should-retry')).toBe('false');
    const body = (await openai.json()) as { error: { code: string; message: string; type: string } };
    expect(body.error.code).toBe('not_a_gateway');
    expect(body.error.message).toMatch(/role controller .*send \/v1 requests to a gateway/);

    const anthropic = await chat(base, '/v1/messages', { 'anthropic-version': '2023-06-01' });
    expect(anthropic.status).toBe(503);
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { message: /role controller/ } });
    // Whatever the body: not even read.
    const garbage = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'not json',
    });
    expect(garbage.status).toBe(503);
    expect((await fetch(`${base}/v1/models`)).status).toBe(503);

    expect(await (await fetch(`${base}/readyz`)).json()).toMatchObject({ role: 'controller' });
    const status = await admin(base, 'GET', '/status');
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ role: 'controller', gateway: null });
  });
});
