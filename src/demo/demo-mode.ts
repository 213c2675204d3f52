import type { Switchyard } from '../app/compose.js';
import type { Config } from '../config/config-schema.js';
import { DEMO_FLEET } from '../fleet/demo-fleet.js';
import { tenantMaterial } from '../fleet/fleet-tenant-material.js';
import { seedFleet } from '../fleet/seed-fleet.js';
import { type RunningSimulator, startSimulator } from '../simulator/index.js';
import { applyDemoPlans, demoTrafficWeight } from './demo-timeline.js';
import { DemoTraffic } from './demo-traffic.js';

/**
 * The demo's settings on top of the embedded default. The whole process runs on a clock
 * `timeScale` times faster than real time, so whatever is measured in simulated time (rollup
 * minutes, soaks, staleness, pin lifetimes) is short in real time, and the periodic work that runs
 * on real timers must run that much more often to keep up.
 */
export function demoConfigInput(timeScale: number): Record<string, unknown> {
  const realMs = (simulatedMs: number) => Math.max(100, Math.round(simulatedMs / timeScale));
  return {
    demo: { enabled: true, timeScale },
    storage: { sqlitePath: '.switchyard/demo.db' },
    // The simulator scopes drift by tenant: live traffic says who it is, BETS runs do not, so a
    // regression scoped to a tenant shows only under live traffic (as in the story).
    gateway: {
      upstreamTenantHeader: true,
      telemetry: { flushIntervalMs: 50 },
    },
    telemetry: { rollupFlushIntervalMs: 100, rollupGraceMs: 0 },
    controller: { tickMs: realMs(5 * 60_000) },
    classification: { enabled: false },
  };
}

/** Upstream behaviour of the demo's versions: the candidate breaks two tenants in two ways. */
async function demoSimulator(): Promise<RunningSimulator> {
  const logistics = DEMO_FLEET.tenants.find((t) => t.id === 'logistics-planner');
  const logisticsTools = logistics ? (await tenantMaterial(logistics)).tools.map((t) => t.name) : [];
  return startSimulator({
    seed: 7,
    models: {
      [DEMO_FLEET.stable.upstreamModel]: {},
      [DEMO_FLEET.candidate.upstreamModel]: {
        drift: [
          // Numbers sent as strings on logistics-planner's tools: its BETS suite catches it.
          { kind: 'number_as_string', rate: 1, tools: logisticsTools },
          // A regression only live traffic of support-bot shows (BETS runs carry no tenant).
          { kind: 'number_as_string', rate: 0.3, tenants: ['support-bot'] },
        ],
      },
      ...(DEMO_FLEET.judge ? { [DEMO_FLEET.judge.upstreamModel]: { judge: {} } } : {}),
    },
  });
}

export interface RunningDemo {
  simulatorUrl: string;
  traffic: DemoTraffic;
  /** Set once the demo's upgrade has started. */
  upgradeId(): string | null;
  stop(): Promise<void>;
}

/**
 * Starts the demo inside a running Switchyard: the provider simulator, the demo fleet (seeded once
 * into an empty registry), the demo's shorter rollout plans, simulated agents of every tenant
 * sending multi-turn tool sessions through the gateway, and after a while the upgrade of the fleet
 * to the new version, which the controller then carries through BETS, shadow, canary stages,
 * approvals and rollbacks.
 */
export async function startDemo(
  app: Switchyard,
  gatewayUrl: string,
  demo: Config['demo'],
  log: (msg: string, detail?: Record<string, unknown>) => void,
): Promise<RunningDemo> {
  const sim = await demoSimulator();
  const seeded = await seedFleet(app.registry, app.store, app.bets.suites, DEMO_FLEET, {
    endpoint: `${sim.url}/v1`,
  });
  // Shorter plans and a traffic mix that feeds the guard: the whole story in minutes (demo-timeline.ts).
  const plans = await applyDemoPlans(app.registry, app.store, demo.timeScale);
  await app.snapshots.reload();
  const tenants = await Promise.all(
    seeded.tenants.map(async (t) => {
      const spec = DEMO_FLEET.tenants.find((x) => x.id === t.tenantId);
      return {
        tenantId: t.tenantId,
        apiKey: t.apiKey,
        tasks: spec ? (await tenantMaterial(spec)).cases : [],
        weight: demoTrafficWeight(t.tenantId),
      };
    }),
  );
  const traffic = new DemoTraffic(tenants, {
    gatewayUrl,
    channel: DEMO_FLEET.channel,
    sessionsPerSecond: demo.sessionsPerSecond,
    // The busiest tenants start several sessions a second: more workers keep up with their rate.
    concurrencyPerTenant: 4,
    onError: (err) => log('a demo agent session failed', { err: String(err) }),
  });
  traffic.start();
  log(`demo: ${seeded.tenants.length} tenants seeded, simulated agents running`, {
    simulator: sim.url,
    demoPlans: plans,
  });
  let upgradeId: string | null = null;
  const timer = setTimeout(() => {
    app.upgrades
      .start(
        {
          channel: DEMO_FLEET.channel,
          fromVersionId: DEMO_FLEET.stable.id,
          toVersionId: DEMO_FLEET.candidate.id,
          reason: 'demo: the new model version reaches the fleet',
        },
        'demo',
      )
      .then((s) => {
        upgradeId = s.upgrade.id;
        log(
          `demo: upgrade ${s.upgrade.id} started (${s.rollouts.length} tenants, ${s.skipped.length} skipped)`,
        );
      })
      .catch((err) => log('demo: the upgrade could not start', { err: String(err) }));
  }, demo.upgradeAfterSeconds * 1000);
  timer.unref();
  return {
    simulatorUrl: sim.url,
    traffic,
    upgradeId: () => upgradeId,
    async stop() {
      clearTimeout(timer);
      await traffic.stop();
      await sim.close();
    },
  };
}
