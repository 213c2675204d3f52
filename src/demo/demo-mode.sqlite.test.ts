import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSwitchyard, type Switchyard } from '../app/compose.js';
import { validateConfig } from '../config/load-config.js';
import { DEFAULT_GROUPS } from '../registry/default-groups.js';
import { ScaledClock } from '../shared/clock.js';
import { demoConfigInput, type RunningDemo, startDemo } from './demo-mode.js';
import { demoPlans } from './demo-timeline.js';

/**
 * The demo `serve` runs with no configuration, on a fast clock: the fleet is seeded, agents send
 * traffic through the gateway, the upgrade starts, and the story's first beats happen by
 * themselves: the tenant whose tool calls drift is blocked at BETS, and the pioneers complete.
 * The later beats (the rollback at about 3 min, approvals waiting, the rest completing by about
 * 6 min) take real minutes of traffic: they are timed by hand (README, "What you are seeing").
 */
const TIME_SCALE = 600;
let app: Switchyard;
let demo: RunningDemo;

beforeAll(async () => {
  const input = demoConfigInput(TIME_SCALE) as { storage: Record<string, unknown> };
  const config = validateConfig({
    ...input,
    storage: { sqlitePath: ':memory:' },
    server: { port: 0 },
    log: { level: 'silent' },
    demo: { enabled: true, timeScale: TIME_SCALE, sessionsPerSecond: 20, upgradeAfterSeconds: 1 },
  });
  app = await createSwitchyard(config, {
    clock: new ScaledClock(TIME_SCALE),
    env: { SWITCHYARD_ADMIN_TOKEN: 'sya-demo-mode-test-token-00000000' },
  });
  const url = await app.listen();
  demo = await startDemo(app, url, config.demo, () => {});
});

afterAll(async () => {
  await demo?.stop();
  await app?.close();
});

async function phases(): Promise<Record<string, string>> {
  const id = demo.upgradeId();
  if (!id) return {};
  const rollouts = await app.rollouts.listRollouts({ upgradeId: id });
  return Object.fromEntries(rollouts.map((r) => [r.tenantId, r.phase]));
}

describe('the demo', () => {
  it('seeds the fleet, drives traffic and runs the upgrade: a BETS block, pioneers complete', async () => {
    let p: Record<string, string> = {};
    for (let i = 0; i < 240; i++) {
      p = await phases();
      if (p['logistics-planner'] === 'blocked' && p['math-tutor'] === 'complete') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(p['logistics-planner']).toBe('blocked');
    expect(p['math-tutor']).toBe('complete');
    expect(p['data-pipeline']).toBe('skipped');
    const stats = demo.traffic.snapshot();
    expect(stats['support-bot']?.sessions).toBeGreaterThan(0);
    expect(stats['support-bot']?.toolCalls).toBeGreaterThan(0);
  }, 90_000);

  it('runs the upgrade on the demo plans (shorter soaks, same stages) with traffic where canaries are small', async () => {
    const plans = demoPlans(TIME_SCALE);
    for (const def of DEFAULT_GROUPS) {
      const group = await app.store.get('rollout_group', def.id);
      const shape = (p: typeof def.plan) => p.stages.map((st) => [st.percent, st.approvals]);
      // Same stages, percentages, approvals and BETS thresholds; only the durations are the demo's.
      expect(shape(group!.plan)).toEqual(shape(def.plan));
      expect(group!.plan.betsThresholds).toEqual(def.plan.betsThresholds);
      expect(group!.plan).toEqual(plans[def.id] ?? def.plan);
    }
    // At the clock `serve` runs the demo on (120×), every duration is shorter than the default's.
    for (const [id, plan] of Object.entries(demoPlans(120))) {
      expect(plan.shadowHours).toBeLessThan(defaultPlan(id).shadowHours);
      plan.stages.forEach((st, i) => {
        expect(st.soakHours).toBeLessThanOrEqual(defaultPlan(id).stages[i]!.soakHours);
      });
    }
    const audit = await app.store.listAudit({ entityKind: 'rollout_group', limit: 20 });
    expect(
      audit
        .filter((a) => a.actor === 'system:demo')
        .map((a) => a.entityId)
        .sort(),
    ).toEqual(['conservative', 'early', 'standard']);
    const stats = demo.traffic.snapshot();
    expect(stats['code-reviewer']!.sessions).toBeGreaterThan(stats['math-tutor']!.sessions);
  });
});

function defaultPlan(id: string) {
  const g = DEFAULT_GROUPS.find((x) => x.id === id);
  if (!g) throw new Error(`no default group ${id}`);
  return g.plan;
}
