/**
 * A controller over a real database for tests: manual clock, a signal source fed with minute
 * buckets per tenant, a scripted BETS gate, recording pin cutter and session counter.
 * Production code never imports this file.
 */
import { type CohortSpec, minuteBucket } from '../../guard/fixtures.js';
import type { DataSourceStatus } from '../../guard/guards.js';
import type { CohortQuery, SignalSource } from '../../guard/signal-source.js';
import type { LatencyWindow, RollupBucket } from '../../guard/signals.js';
import type { RegistryService } from '../../registry/registry-service.js';
import type { SqlRegistryStore } from '../../registry/sql-registry-store.js';
import type { RolloutPlan } from '../../registry/types.js';
import type { ManualClock } from '../../shared/clock.js';
import type { SqlDatabase } from '../../storage/sql-database.js';
import { SYSTEM } from '../../test-support/registry-fixtures.js';
import type { BetsGate, GateKey, GateVerdict } from '../bets-gate.js';
import { type ControllerOptions, OutboxNotifier, RolloutController } from '../controller.js';
import { BoundedFailingCallSampler } from '../failing-call-samples.js';
import { SqlIncidentStore } from '../incident.js';
import { LeaderLease } from '../leader-lease.js';
import { SqlNotificationOutbox } from '../notifications.js';
import type { RolloutStore } from '../rollout-store.js';
import type { CandidateSessions, SessionCutter } from '../sessions.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export type Profile = (startMs: number) => { canary: CohortSpec; control: CohortSpec };

export const healthy: Profile = () => ({
  canary: { toolCalls: { trials: 60, events: 0 }, requests: { trials: 60, events: 0 } },
  control: { toolCalls: { trials: 600, events: 3 }, requests: { trials: 600, events: 1 } },
});

export const regressed: Profile = () => ({
  canary: { toolCalls: { trials: 60, events: 15 }, requests: { trials: 60, events: 0 }, kinds: { type: 15 } },
  control: {
    toolCalls: { trials: 600, events: 3 },
    requests: { trials: 600, events: 1 },
    kinds: { type: 3 },
  },
});

/** Per-tenant minute buckets from a profile; every minute that has ended is returned. */
export class TestSignals implements SignalSource {
  readonly profiles = new Map<string, Profile>();
  source: DataSourceStatus = { kind: 'available' };

  async buckets(q: CohortQuery): Promise<RollupBucket[]> {
    const profile = this.profiles.get(q.tenantId) ?? healthy;
    const out: RollupBucket[] = [];
    for (let m = Math.ceil(q.fromMs / MINUTE) * MINUTE; m + MINUTE <= q.toMs; m += MINUTE) {
      const p = profile(m);
      out.push(minuteBucket(0, p.canary, p.control, undefined, m));
    }
    return out;
  }

  async latency(_q: CohortQuery): Promise<LatencyWindow | null> {
    return null;
  }

  status(): DataSourceStatus {
    return this.source;
  }
}

/** BETS verdicts scripted per tenant; records every start. */
export class ScriptedGate implements BetsGate {
  readonly verdicts = new Map<string, GateVerdict>();
  readonly starts: GateKey[] = [];

  async verdict(key: GateKey): Promise<GateVerdict> {
    const v = this.verdicts.get(key.tenantId);
    if (v) return v;
    return this.starts.some((s) => s.tenantId === key.tenantId)
      ? { outcome: 'pending', reason: '1 run(s) under way' }
      : { outcome: null, reason: null };
  }

  async startRuns(key: GateKey): Promise<string[]> {
    this.starts.push(key);
    return [`run_${key.tenantId}_${this.starts.length}`];
  }
}

export class RecordingPins implements SessionCutter, CandidateSessions {
  readonly cuts: { tenantId: string; versionId: string; atMs: number }[] = [];
  readonly counts = new Map<string, number>();
  constructor(private readonly clock: ManualClock) {}
  async hardCut(tenantId: string, versionId: string): Promise<void> {
    this.cuts.push({ tenantId, versionId, atMs: this.clock.now() });
  }
  async active(tenantId: string): Promise<number> {
    return this.counts.get(tenantId) ?? 0;
  }
}

export const FAST_PLAN: RolloutPlan = {
  stages: [
    { percent: 10, soakHours: 1, approvals: [] },
    { percent: 100, soakHours: 1, approvals: [] },
  ],
  betsThresholds: { toolCall: 0.9, format: 0.9, semantic: 0.8 },
  shadowHours: 1,
  minDurationHours: 2,
};

export const CAREFUL_PLAN: RolloutPlan = {
  stages: [
    { percent: 5, soakHours: 1, approvals: ['platform', 'tenant'] },
    { percent: 100, soakHours: 0, approvals: ['platform', 'tenant'] },
  ],
  betsThresholds: { toolCall: 0.9, format: 0.9, semantic: 0.8 },
  shadowHours: 0,
  minDurationHours: 1,
};

export async function seedPlans(registry: RegistryService): Promise<void> {
  await registry.createGroup(SYSTEM, { id: 'fast', name: 'Fast', rank: 5, plan: FAST_PLAN });
  await registry.createGroup(SYSTEM, { id: 'careful', name: 'Careful', rank: 6, plan: CAREFUL_PLAN });
}

export interface Harness {
  controller: RolloutController;
  lease: LeaderLease;
  signals: TestSignals;
  gate: ScriptedGate;
  pins: RecordingPins;
  samples: BoundedFailingCallSampler;
  incidents: SqlIncidentStore;
  outbox: SqlNotificationOutbox;
  errors: unknown[];
}

export function controllerOver(
  deps: {
    db: SqlDatabase;
    rollouts: RolloutStore;
    registry: RegistryService;
    store: SqlRegistryStore;
    clock: ManualClock;
    signals?: TestSignals;
    gate?: ScriptedGate;
    pins?: RecordingPins;
  },
  holder = 'a',
  opts: Partial<ControllerOptions> = {},
): Harness {
  const signals = deps.signals ?? new TestSignals();
  const gate = deps.gate ?? new ScriptedGate();
  const pins = deps.pins ?? new RecordingPins(deps.clock);
  const samples = new BoundedFailingCallSampler();
  const incidents = new SqlIncidentStore(deps.db);
  const outbox = new SqlNotificationOutbox(deps.db);
  const lease = new LeaderLease(deps.db, deps.clock, 'rollout-controller', holder, 30_000);
  const errors: unknown[] = [];
  const controller = new RolloutController(
    {
      rollouts: deps.rollouts,
      registry: deps.registry,
      registryStore: deps.store,
      clock: deps.clock,
      lease,
      signals,
      bets: gate,
      pins,
      sessions: pins,
      incidents,
      notifier: new OutboxNotifier(outbox, ['hook1']),
      samples,
      onError: (e) => errors.push(e),
    },
    opts,
  );
  return { controller, lease, signals, gate, pins, samples, incidents, outbox, errors };
}
