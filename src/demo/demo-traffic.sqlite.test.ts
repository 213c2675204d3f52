import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSwitchyard, type Switchyard } from '../app/compose.js';
import { validateConfig } from '../config/load-config.js';
import { DEMO_FLEET } from '../fleet/demo-fleet.js';
import { tenantMaterial } from '../fleet/fleet-tenant-material.js';
import { type SeededFleet, seedFleet } from '../fleet/seed-fleet.js';
import { type RunningSimulator, startSimulator } from '../simulator/index.js';
import { runAgentSession } from './demo-agent.js';
import { DemoTraffic } from './demo-traffic.js';

let sim: RunningSimulator;
let app: Switchyard;
let url: string;
let fleet: SeededFleet;
const TENANTS = ['support-bot', 'legal-summarizer'];

beforeAll(async () => {
  sim = await startSimulator({
    seed: 5,
    models: { 'sim-2026-01': {}, 'sim-2026-06': {}, 'sim-judge': { judge: {} } },
  });
  app = await createSwitchyard(
    validateConfig({ server: { port: 0 }, storage: { sqlitePath: ':memory:' }, log: { level: 'silent' } }),
    { env: { SWITCHYARD_ADMIN_TOKEN: 'sya-demo-traffic-test-token-00000' } },
  );
  url = await app.listen();
  fleet = await seedFleet(
    app.registry,
    app.store,
    app.bets.suites,
    { ...DEMO_FLEET, tenants: DEMO_FLEET.tenants.filter((t) => TENANTS.includes(t.id)) },
    { endpoint: `${sim.url}/v1` },
  );
  await app.snapshots.reload();
});

afterAll(async () => {
  await app?.close();
  await sim?.close();
});

const keyOf = (id: string) => fleet.tenants.find((t) => t.tenantId === id)?.apiKey ?? '';
const tasksOf = async (id: string) =>
  (await tenantMaterial(DEMO_FLEET.tenants.find((t) => t.id === id) ?? DEMO_FLEET.tenants[0]!)).cases;

describe('demo agents', () => {
  it('run multi-turn tool sessions through the gateway and report each task on /v1/feedback', async () => {
    const traffic = new DemoTraffic(
      await Promise.all(
        TENANTS.map(async (id) => ({ tenantId: id, apiKey: keyOf(id), tasks: await tasksOf(id), weight: 1 })),
      ),
      { gatewayUrl: url, channel: 'assistant', sessionsPerSecond: 20 },
    );
    traffic.start();
    await new Promise((r) => setTimeout(r, 1500));
    await traffic.stop();
    const stats = traffic.snapshot();
    const support = stats['support-bot'];
    expect(support?.sessions).toBeGreaterThan(3);
    // A support task: the model calls a tool, gets its result, then answers: two requests.
    expect(support?.toolCalls).toBeGreaterThan(0);
    expect(support?.requests).toBeGreaterThan(support?.sessions ?? 0);
    expect(support?.errors).toBe(0);
    expect(stats['legal-summarizer']?.failures).toBe(0);
    const stored = await app.db.get<{ n: number }>(
      'SELECT COUNT(*) AS n FROM gateway_feedback WHERE tenant_id = ?',
      ['support-bot'],
    );
    expect(Number(stored?.n)).toBeGreaterThanOrEqual((support?.sessions ?? 0) - 2);
  });

  it('sees the reset signal when its session was cut off a rolled-back version', async () => {
    await app.registry.updateChannel({ actor: 'test' }, 'support-bot', 'assistant', {
      candidateVersionId: 'assistant-2026-06',
      canaryPercent: 100,
      upgradeId: 'upg-reset',
    });
    await app.snapshots.reload();
    const [task] = await tasksOf('support-bot');
    if (!task) throw new Error('no task');
    const opts = { gatewayUrl: url, apiKey: keyOf('support-bot'), channel: 'assistant' };
    const first = await runAgentSession(task, 'reset-session', opts);
    expect(first).toMatchObject({ cohort: 'canary', reset: false, success: true });
    await app.pins.hardCut('support-bot', 'assistant-2026-06');
    const again = await runAgentSession(task, 'reset-session', opts);
    expect(again.reset).toBe(true);
    expect(again.cohort).toBe('stable');
  });
});
