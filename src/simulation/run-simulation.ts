import { randomBytes } from 'node:crypto';
import type { Principal } from '../admin/principal.js';
import { createSwitchyard, type Switchyard } from '../app/compose.js';
import { validateConfig } from '../config/load-config.js';
import { DEMO_FLEET } from '../fleet/demo-fleet.js';
import type { FleetSpec } from '../fleet/fleet-spec.js';
import { tenantMaterial } from '../fleet/fleet-tenant-material.js';
import { seedFleet } from '../fleet/seed-fleet.js';
import { Router } from '../gateway/routing/router.js';
import { createPrng } from '../guard/prng.js';
import type { RolloutPhase, TenantRollout } from '../rollout/rollout-types.js';
import { ManualClock } from '../shared/clock.js';
import { type RunningSimulator, startSimulator } from '../simulator/index.js';
import { OutcomeModel } from './outcome-model.js';
import type { Scenario, ScheduledApproval } from './scenario.js';
import { type SimulatedTenant, TrafficGenerator } from './traffic.js';

const HOUR = 3_600_000;

/** One line of the simulated upgrade's timeline. */
export interface TimelineEntry {
  atMs: number;
  /** Hours since the upgrade started. */
  hour: number;
  tenantId: string;
  from: string;
  to: string;
  /** Why: the rollout's reason or the guard's latest decision. */
  detail: string | null;
}

export interface TenantOutcome {
  tenantId: string;
  group: string;
  phase: RolloutPhase;
  stage: number;
  reason: string | null;
  sessions: number;
  canarySessions: number;
}

export interface SimulationResult {
  upgradeId: string;
  startMs: number;
  endMs: number;
  timeline: TimelineEntry[];
  tenants: TenantOutcome[];
  incidents: { id: string; tenantId: string; trigger: string }[];
  /** Wall-clock time the run took. */
  realMs: number;
}

export interface SimulationOptions {
  /** Told of each timeline entry as it happens (the CLI prints them). */
  onEntry?: (e: TimelineEntry) => void;
}

const phaseLabel = (r: TenantRollout, fleet: FleetSpec, groups: Map<string, number[]>): string => {
  if (r.phase === 'canary' || r.phase === 'awaiting_approval') {
    const pct = groups.get(r.groupId)?.[r.stage];
    return `${r.phase} ${r.stage + 1}${pct !== undefined ? ` (${pct}%)` : ''}`;
  }
  if (r.phase === 'rolling_back') return `rolling_back:${r.rollbackStep ?? '-'}`;
  void fleet;
  return r.phase;
};

/**
 * Runs a whole upgrade event on a fake clock: a real Switchyard (SQLite in memory: registry,
 * BETS, rollups, the rollout controller and its guard) and a real provider simulator for the BETS
 * runs; live traffic comes from simulated agents routed by the gateway's router, whose outcomes
 * follow the scenario's behaviour model. Each tick: traffic, rollups closed, scheduled approvals,
 * then one controller pass (waiting for any BETS runs it started). The clock only moves between
 * ticks, so three weeks take seconds and a run repeats exactly for a seed.
 */
export async function runSimulation(
  scenario: Scenario,
  opts: SimulationOptions = {},
): Promise<SimulationResult> {
  const realStart = performance.now();
  const fleet = scenario.fleet ?? DEMO_FLEET;
  const startMs = Date.parse(scenario.start);
  const clock = new ManualClock(startMs);
  const sim = await startSimulator({
    seed: scenario.seed,
    models: {
      [fleet.stable.upstreamModel]: {},
      [fleet.candidate.upstreamModel]: {},
      ...(fleet.judge ? { [fleet.judge.upstreamModel]: { judge: {} } } : {}),
      ...scenario.simulator.models,
    },
  });
  let app: Switchyard | undefined;
  try {
    app = await createSwitchyard(simulationConfig(), {
      clock,
      env: { SWITCHYARD_ADMIN_TOKEN: `sya-sim-${randomBytes(16).toString('hex')}` },
    });
    return await simulate(app, sim, scenario, fleet, clock, startMs, realStart, opts);
  } finally {
    await app?.close();
    await sim.close();
  }
}

function simulationConfig() {
  return validateConfig({
    server: { port: 0 },
    storage: { sqlitePath: ':memory:' },
    log: { level: 'silent' },
    // The simulation drives the controller and the rollups itself, tick by tick.
    controller: { tickMs: 600_000 },
    telemetry: { rollupFlushIntervalMs: 60_000, rollupGraceMs: 0, maintenanceIntervalMs: 86_400_000 },
    classification: { enabled: false },
    // The simulator scopes a version's drift to tenants by this header.
    bets: { upstreamTenantHeader: true },
  });
}

async function simulate(
  app: Switchyard,
  sim: RunningSimulator,
  scenario: Scenario,
  fleet: FleetSpec,
  clock: ManualClock,
  startMs: number,
  realStart: number,
  opts: SimulationOptions,
): Promise<SimulationResult> {
  await seedFleet(app.registry, app.store, app.bets.suites, fleet, { endpoint: `${sim.url}/v1` });
  await app.snapshots.reload();
  const tenants: SimulatedTenant[] = [];
  for (const spec of fleet.tenants) {
    const material = await tenantMaterial(spec);
    const keys = await app.store.list('api_key', { tenantId: spec.id });
    tenants.push({
      spec,
      keyId: keys[0]?.id ?? `${spec.id}-key`,
      usesTools: material.tools.length > 0,
      hasFormat: spec.format !== undefined,
    });
  }
  const status = await app.upgrades.start(
    {
      channel: fleet.channel,
      fromVersionId: fleet.stable.id,
      toVersionId: fleet.candidate.id,
      reason: 'simulation',
    },
    'simulate',
  );
  const upgradeId = status.upgrade.id;
  const groups = new Map(
    (await app.store.list('rollout_group')).map((g) => [g.id, g.plan.stages.map((s) => s.percent)] as const),
  );
  const router = new Router(app.pins, clock, app.config.gateway.sessionPinTtlMs);
  const traffic = new TrafficGenerator(
    createPrng(scenario.seed),
    router,
    new OutcomeModel(scenario, startMs),
    fleet.channel,
    scenario.trafficScale,
  );
  const timeline: TimelineEntry[] = [];
  const sessions = new Map<string, { sessions: number; canary: number }>();
  const last = new Map<string, string>();
  const given = new Set<string>();
  const tickMs = scenario.tickMinutes * 60_000;
  const endMs = startMs + scenario.days * 24 * HOUR;

  const observe = async () => {
    for (const r of await app.rollouts.listRollouts({ upgradeId })) {
      const label = phaseLabel(r, fleet, groups);
      const before = last.get(r.tenantId);
      if (before === label) continue;
      last.set(r.tenantId, label);
      const entry: TimelineEntry = {
        atMs: clock.now(),
        hour: (clock.now() - startMs) / HOUR,
        tenantId: r.tenantId,
        from: before ?? 'none',
        to: label,
        detail: r.reason ?? r.control?.decision?.reason ?? null,
      };
      timeline.push(entry);
      opts.onEntry?.(entry);
    }
  };

  await observe();
  for (let t = startMs; t < endMs; t += tickMs) {
    clock.set(t + tickMs);
    const batch = await traffic.tick(app.snapshots.current(), tenants, t, t + tickMs);
    for (const [tenantId, n] of countSessions(batch.events)) {
      const s = sessions.get(tenantId) ?? { sessions: 0, canary: 0 };
      s.sessions += n.sessions;
      s.canary += n.canary;
      sessions.set(tenantId, s);
    }
    await app.telemetry.append(batch.events);
    for (const f of batch.feedback) app.rollups.recordFeedback(f);
    for (const j of batch.judge) app.rollups.record(j);
    await app.rollups.flush();
    await approve(app, scenario.approvals, upgradeId, (clock.now() - startMs) / HOUR, given);
    await pass(app, upgradeId);
    await app.snapshots.reload();
    await observe();
    const rollouts = await app.rollouts.listRollouts({ upgradeId });
    if (rollouts.every((r) => ['blocked', 'rolled_back', 'complete', 'skipped'].includes(r.phase))) break;
  }

  const final = await app.rollouts.listRollouts({ upgradeId });
  const incidentRows = await listIncidents(app, upgradeId);
  return {
    upgradeId,
    startMs,
    endMs: clock.now(),
    timeline,
    tenants: final
      .map((r) => ({
        tenantId: r.tenantId,
        group: r.groupId,
        phase: r.phase,
        stage: r.stage,
        reason: r.reason,
        sessions: sessions.get(r.tenantId)?.sessions ?? 0,
        canarySessions: sessions.get(r.tenantId)?.canary ?? 0,
      }))
      .sort((a, b) => a.tenantId.localeCompare(b.tenantId)),
    incidents: incidentRows,
    realMs: performance.now() - realStart,
  };
}

/** A controller pass; when it started BETS runs, wait for them (real time) and pass again. */
async function pass(app: Switchyard, upgradeId: string): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await app.controller.runOnce();
    const running = (await app.rollouts.listRollouts({ upgradeId })).filter((r) => r.phase === 'gating');
    const runIds = running.flatMap((r) => r.control?.betsRuns ?? []);
    if (runIds.length === 0) return;
    await Promise.all(runIds.map((id) => app.bets.runs.settled(id)));
  }
}

async function approve(
  app: Switchyard,
  approvals: readonly ScheduledApproval[],
  upgradeId: string,
  hour: number,
  given: Set<string>,
): Promise<void> {
  for (const a of approvals) {
    if (hour < a.afterHours) continue;
    const r = (await app.rollouts.listRollouts({ upgradeId, tenantId: a.tenant }))[0];
    if (r?.phase !== 'awaiting_approval') continue;
    const key = `${a.tenant}:${a.party}:${r.stage}`;
    if (given.has(key) || (!a.repeat && [...given].some((k) => k.startsWith(`${a.tenant}:${a.party}:`))))
      continue;
    given.add(key);
    const principal: Principal =
      a.party === 'platform'
        ? { actor: `simulation/${a.by}`, role: 'approver', tenantId: null }
        : { actor: `simulation/${a.by}`, role: 'tenant_contact', tenantId: a.tenant };
    await app.upgrades.approve(upgradeId, a.tenant, r.stage + 1, principal, 'scheduled in the scenario');
  }
}

function countSessions(
  events: readonly { tenantId: string; sessionId: string | null; cohort: string | null }[],
) {
  const out = new Map<string, { sessions: number; canary: number }>();
  const seen = new Set<string>();
  for (const e of events) {
    if (!e.sessionId || seen.has(e.sessionId)) continue;
    seen.add(e.sessionId);
    const c = out.get(e.tenantId) ?? { sessions: 0, canary: 0 };
    c.sessions++;
    if (e.cohort === 'canary') c.canary++;
    out.set(e.tenantId, c);
  }
  return out;
}

async function listIncidents(app: Switchyard, upgradeId: string) {
  const rows = await app.incidents.list({ upgradeId, limit: 1000 });
  return rows.map((r) => ({ id: r.id, tenantId: r.tenantId, trigger: r.reason }));
}
