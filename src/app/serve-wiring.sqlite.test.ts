import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../config/load-config.js';
import { DEMO_FLEET } from '../fleet/demo-fleet.js';
import { type SeededFleet, seedFleet } from '../fleet/seed-fleet.js';
import { ManualClock } from '../shared/clock.js';
import { type RunningSimulator, startSimulator } from '../simulator/index.js';
import { createSwitchyard, type Switchyard } from './compose.js';

/**
 * The composition root wires the telemetry consumers: one request through the gateway is stored as
 * a raw event (on an SQLite file, as `serve` runs by default: from the writer thread), shows up in
 * Prometheus `/metrics`, in the per-minute rollups behind the metrics API, and a BETS verdict in the
 * verdict counter. (Each part has its own tests; this one fails if serve leaves a part unwired.)
 */
const TOKEN = 'sya-serve-wiring-test-token-000000';
let sim: RunningSimulator;
let app: Switchyard;
let url: string;
let fleet: SeededFleet;
const dir = mkdtempSync(join(tmpdir(), 'sy-serve-wiring-'));
// Rollups close a minute after it ends: a manual clock moves past it without waiting.
const clock = new ManualClock(Date.UTC(2026, 10, 25, 12, 0, 30));

beforeAll(async () => {
  sim = await startSimulator({
    seed: 3,
    models: { 'sim-2026-01': {}, 'sim-2026-06': {}, 'sim-judge': { judge: {} } },
  });
  const config = validateConfig({
    server: { port: 0 },
    storage: { sqlitePath: join(dir, 'switchyard.db') },
    log: { level: 'silent' },
    telemetry: { rollupFlushIntervalMs: 100, rollupGraceMs: 0 },
    gateway: { telemetry: { flushIntervalMs: 20 } },
  });
  app = await createSwitchyard(config, { env: { SWITCHYARD_ADMIN_TOKEN: TOKEN }, clock });
  url = await app.listen();
  const math = DEMO_FLEET.tenants.find((t) => t.id === 'math-tutor');
  if (!math) throw new Error('demo fleet changed');
  fleet = await seedFleet(
    app.registry,
    app.store,
    app.bets.suites,
    { ...DEMO_FLEET, tenants: [math] },
    {
      endpoint: `${sim.url}/v1`,
    },
  );
});

afterAll(async () => {
  await app?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

const admin = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${url}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('serve wiring', () => {
  it('a request reaches /metrics and the rollups; a BETS verdict reaches the verdict counter', async () => {
    const key = fleet.tenants[0]?.apiKey ?? '';
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'assistant', messages: [{ role: 'user', content: 'What is 2 + 2?' }] }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    await app.gateway.settle();
    const stored = await app.db.all<{ tenant_id: string; status: number }>(
      'SELECT tenant_id, status FROM telemetry_events',
    );
    expect(stored).toEqual([{ tenant_id: 'math-tutor', status: 200 }]);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/switchyard_gateway_requests_total\{[^}]*tenant="math-tutor"[^}]*\} 1/);

    // The rollups see the same request once its minute is closed and flushed.
    clock.advance(2 * 60_000);
    let requests = 0;
    for (let i = 0; i < 100 && requests === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const m = await admin('GET', '/tenants/math-tutor/metrics');
      expect(m.status).toBe(200);
      const series = (m.body.series ?? []) as Array<{ points: Array<{ requests: number }> }>;
      requests = series.flatMap((s) => s.points).reduce((n, p) => n + p.requests, 0);
    }
    expect(requests).toBe(1);

    await app.registry.updateChannel({ actor: 'test' }, 'math-tutor', 'assistant', {
      candidateVersionId: 'assistant-2026-06',
      upgradeId: 'upg-test',
    });
    const run = await app.bets.runs.startRun({ tenantId: 'math-tutor', workflow: 'main' }, 'test');
    await app.bets.runs.settled(run.id);
    const after = await (await fetch(`${url}/metrics`)).text();
    expect(after).toMatch(/switchyard_bets_verdicts_total\{[^}]*outcome="pass"[^}]*\} 1/);
  });
});
