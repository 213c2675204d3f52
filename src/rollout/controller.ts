import { createHash } from 'node:crypto';
import {
  DEFAULT_GUARD_CONFIG,
  type Decision,
  decide,
  type GuardConfig,
  guardConfig,
  openGuard,
} from '../guard/index.js';
import type { CohortQuery, SignalSource } from '../guard/signal-source.js';
import type { RegistryService } from '../registry/registry-service.js';
import type { RegistryStore } from '../registry/registry-store.js';
import type { RolloutGroup, Tenant, TenantChannel } from '../registry/types.js';
import type { Clock } from '../shared/clock.js';
import type { BetsGate, GateKey, GateVerdict } from './bets-gate.js';
import type { FailingCallSamples } from './failing-call-samples.js';
import { buildIncidentReport, type IncidentStore } from './incident.js';
import { encodeJson } from './json-codec.js';
import type { LeaderLease } from './leader-lease.js';
import type { Notification } from './notifications.js';
import { isTerminal, reconcile } from './reconcile.js';
import type { RolloutEvent, RolloutStore } from './rollout-store.js';
import type {
  GuardFinding,
  RolloutControl,
  RolloutPhase,
  StepEffect,
  TenantRollout,
  Upgrade,
} from './rollout-types.js';
import type { CandidateSessions, SessionCutter } from './sessions.js';

const DAY = 86_400_000;
/** The actor of every registry change the controller makes (audit log). */
export const CONTROLLER_ACTOR = 'controller';

/** Where notifications go (port): the outbox the webhook worker drains. */
export interface Notifier {
  notify(n: Notification): Promise<void>;
}

export interface ControllerOptions {
  /** How often `start()` runs a pass. */
  tickMs: number;
  /** How long a rollback waits for sessions on the candidate to finish before the hard cut. */
  drainTimeoutMs: number;
  /** How long the replaced version stays warm (serving pinned sessions) before it is retired. */
  warmDays: number;
  /** Samples of failing calls in an incident report. */
  incidentSamples: number;
}

export const DEFAULT_CONTROLLER_OPTIONS: ControllerOptions = {
  tickMs: 10_000,
  drainTimeoutMs: 90_000,
  warmDays: 30,
  incidentSamples: 5,
};

export interface ControllerDeps {
  rollouts: RolloutStore;
  registry: RegistryService;
  registryStore: RegistryStore;
  clock: Clock;
  lease: LeaderLease;
  signals: SignalSource;
  bets: BetsGate;
  pins: SessionCutter;
  sessions: CandidateSessions;
  incidents: IncidentStore;
  notifier: Notifier;
  samples?: FailingCallSamples;
  guard?: GuardConfig;
  onError?: (err: unknown, context: string) => void;
}

export interface PassReport {
  leader: boolean;
  /** Rollouts whose status was written. */
  written: number;
  /** Phase changes, `tenant: from -> to`. */
  transitions: string[];
  errors: number;
}

/** How far back the latency comparison looks. */
const LATENCY_WINDOW_MS = 60 * 60_000;

const TRAFFIC: ReadonlySet<RolloutPhase> = new Set(['shadow', 'canary', 'awaiting_approval']);
const REGRESSION_VERDICTS = new Set(['rollback', 'pause', 'escalate']);

const stableId = (prefix: string, ...parts: string[]) =>
  `${prefix}_${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 24)}`;

/** The traffic window the guard watches in this phase: a new window opens a new sequential test. */
export function guardWindow(r: TenantRollout): string {
  if (r.phase === 'awaiting_approval') return r.stage > 0 ? `canary:${r.stage - 1}` : 'shadow';
  return r.phase === 'canary' ? `canary:${r.stage}` : r.phase;
}

/** The control status without the time of the last evaluation: what is worth a write. */
function fingerprint(c: RolloutControl | undefined): string {
  if (!c) return '';
  return encodeJson({ ...c, decision: c.decision ? { ...c.decision, atMs: 0 } : null });
}

/** Which cohort is missing from the window: shadow has no live canary, a 100% stage no control. */
type MissingCohort = 'none' | 'canary' | 'control';

function findingOf(d: Decision, m: MissingCohort): GuardFinding {
  return {
    regression: REGRESSION_VERDICTS.has(d.verdict),
    // In shadow there is no live canary cohort to compare, so only a source outage is "no data";
    // the judge on shadow pairs (and the caps) can still find a regression. At 100% there is no
    // control left: a comparison can never have enough samples, so that alone does not hold the
    // rollout (the caps, the judge and stale or missing data still do).
    inconclusive:
      m === 'canary'
        ? d.evidence.kind === 'source_unavailable'
        : m === 'control'
          ? d.verdict === 'inconclusive' && d.evidence.kind !== 'min_samples'
          : d.verdict === 'inconclusive',
    reason: d.reason,
    evidence: { verdict: d.verdict, signal: d.signal, method: d.evidence.method },
  };
}

interface PassContext {
  upgrade: Upgrade;
  rollout: TenantRollout;
  tenant: Tenant;
  group: RolloutGroup;
  binding: TenantChannel;
  control: RolloutControl;
  nowMs: number;
  /** The incident written in this pass, for the notification that follows it. */
  incidentId: string | null;
}

/**
 * The rollout controller: a level-triggered reconcile loop (Argo Rollouts style). Each pass, for
 * each active tenant rollout: read the rollout and its inputs (plan, BETS verdict, guard decision
 * on the current window, sessions on the candidate), call the pure `reconcile`, apply the
 * effects it asks for (each idempotent: it looks before it writes), then write the status once,
 * guarded by the version column. Only the lease holder acts; a successor re-runs a pass whose
 * status write never happened, and the effects' look-before-write keeps every step applied once.
 */
export class RolloutController {
  private readonly opts: ControllerOptions;
  private readonly config: GuardConfig;
  private readonly shadowConfig: GuardConfig;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<PassReport> | null = null;

  constructor(
    private readonly deps: ControllerDeps,
    opts: Partial<ControllerOptions> = {},
  ) {
    this.opts = { ...DEFAULT_CONTROLLER_OPTIONS, ...opts };
    this.config = deps.guard ?? DEFAULT_GUARD_CONFIG;
    // Shadow has no live canary cohort and a 100% stage no control: silence there is expected,
    // not a stalled pipeline (a stalled pipeline shows as the source being unavailable).
    this.shadowConfig = guardConfig({ staleAfterMs: Number.MAX_SAFE_INTEGER }, this.config);
  }

  /** One pass over every upgrade (a no-op unless this process holds the lease). */
  runOnce(): Promise<PassReport> {
    if (!this.running) {
      this.running = this.pass().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.runOnce().catch((e) => this.deps.onError?.(e, 'controller pass'));
    }, this.opts.tickMs);
    this.timer.unref();
  }

  /** Stops ticking, lets a pass in progress finish, and hands the lease over at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
    await this.deps.lease.release();
  }

  private async pass(): Promise<PassReport> {
    const report: PassReport = { leader: false, written: 0, transitions: [], errors: 0 };
    if (!(await this.deps.lease.acquire())) return report;
    report.leader = true;
    for (const upgrade of await this.deps.rollouts.listUpgrades()) {
      if (upgrade.state === 'complete') {
        await this.guarded(report, `upgrade ${upgrade.id} lifecycle`, () => this.lifecycle(upgrade));
        continue;
      }
      for (const r of await this.deps.rollouts.listRollouts({ upgradeId: upgrade.id })) {
        if (isTerminal(r.phase)) continue;
        if (!this.deps.lease.isLeader()) return report;
        await this.guarded(report, `rollout ${r.id}`, () => this.reconcileRollout(upgrade, r, report));
      }
      await this.guarded(report, `upgrade ${upgrade.id}`, () => this.finishUpgrade(upgrade));
    }
    return report;
  }

  private async guarded(report: PassReport, context: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (e) {
      report.errors++;
      this.deps.onError?.(e, context);
    }
  }

  private iso(ms: number): string {
    return new Date(ms).toISOString();
  }

  private async reconcileRollout(u: Upgrade, r: TenantRollout, report: PassReport): Promise<void> {
    const { registryStore: rs } = this.deps;
    const now = this.deps.clock.now();
    const [tenant, group, binding] = await Promise.all([
      rs.get('tenant', r.tenantId),
      rs.get('rollout_group', r.groupId),
      rs.get('tenant_channel', `${r.tenantId}:${r.channel}`),
    ]);
    if (!tenant || !group || !binding) {
      if (r.phase === 'paused') return;
      const missing = !tenant ? 'tenant' : !group ? `rollout group '${r.groupId}'` : 'channel binding';
      const next: TenantRollout = {
        ...r,
        phase: 'paused',
        resumePhase: r.phase,
        reason: `${missing} no longer exists`,
        phaseSince: now,
        version: r.version + 1,
        updatedAt: this.iso(now),
      };
      await this.write(u, r, next, [], report);
      return;
    }
    const key: GateKey = {
      tenantId: r.tenantId,
      channel: r.channel,
      candidateVersionId: u.toVersionId,
      upgradeId: u.id,
    };
    const bets: GateVerdict =
      r.phase === 'gating' ? await this.deps.bets.verdict(key) : { outcome: null, reason: null };

    let control: RolloutControl = r.control ?? {
      window: guardWindow(r),
      guard: openGuard(r.phaseSince),
      decision: null,
      trigger: null,
      stoppedAt: null,
      betsRuns: [],
    };
    let guard: GuardFinding | null = null;
    if (TRAFFIC.has(r.phase) && u.state === 'running') {
      ({ control, guard } = await this.evaluate(u, r, tenant, binding, control, now));
    } else if (r.phase === 'rolling_back' && control.trigger) {
      guard = findingOf(control.trigger, 'none');
    }
    const candidateSessions =
      r.phase === 'rolling_back' && r.rollbackStep === 'drain'
        ? await this.deps.sessions.active(r.tenantId, u.toVersionId, now)
        : 0;

    const out = reconcile(r, {
      now,
      upgradeState: u.state,
      plan: group.plan,
      actionPolicy: tenant.actionPolicy,
      bets: bets.outcome,
      ...(bets.reason ? { betsReason: bets.reason } : {}),
      guard,
      candidateSessions,
      drainTimeoutMs: this.opts.drainTimeoutMs,
    });
    const stopped =
      out.next.phase !== r.phase && (out.next.phase === 'rolling_back' || out.next.phase === 'paused');
    if (stopped && TRAFFIC.has(r.phase)) {
      control = {
        ...control,
        trigger: guard?.regression ? control.decision : control.trigger,
        stoppedAt: { phase: r.phase, stage: r.stage },
      };
    }
    if (!out.changed && fingerprint(control) === fingerprint(r.control)) return;
    if (!this.deps.lease.isLeader()) return;

    const ctx: PassContext = {
      upgrade: u,
      rollout: out.next,
      tenant,
      group,
      binding,
      control,
      nowMs: now,
      incidentId: null,
    };
    const events: RolloutEvent[] = [];
    const event = (action: string, detail: string | null): void => {
      events.push({
        upgradeId: u.id,
        rolloutId: r.id,
        tenantId: r.tenantId,
        atMs: now,
        actor: CONTROLLER_ACTOR,
        action,
        detail,
      });
    };
    for (const step of out.effects) {
      const detail = await this.apply(step, ctx);
      event(`effect:${step.effect.kind}`, `${step.stepId}${detail ? `: ${detail}` : ''}`);
    }
    if (
      out.next.phase !== r.phase ||
      out.next.stage !== r.stage ||
      out.next.rollbackStep !== r.rollbackStep
    ) {
      const from = `${r.phase}${r.phase === 'canary' || r.phase === 'awaiting_approval' ? `(${r.stage + 1})` : ''}`;
      const to = `${out.next.phase}${out.next.phase === 'canary' || out.next.phase === 'awaiting_approval' ? `(${out.next.stage + 1})` : ''}`;
      const step = out.next.phase === 'rolling_back' ? ` [${out.next.rollbackStep}]` : '';
      event('transition', `${from} -> ${to}${step}${out.next.reason ? `: ${out.next.reason}` : ''}`);
      report.transitions.push(`${r.tenantId}: ${from} -> ${to}${step}`);
    }
    const next: TenantRollout = {
      ...out.next,
      control: ctx.control,
      version: r.version + 1,
      updatedAt: this.iso(now),
    };
    await this.write(u, r, next, events, report);
  }

  private async write(
    _u: Upgrade,
    r: TenantRollout,
    next: TenantRollout,
    events: RolloutEvent[],
    report: PassReport,
  ): Promise<void> {
    // Another writer (a person's approval, another controller) got there first: the next pass
    // starts from what it wrote; every effect of this pass was idempotent.
    if (await this.deps.rollouts.writeStatus(next, r.version, events)) report.written++;
  }

  private async evaluate(
    u: Upgrade,
    r: TenantRollout,
    tenant: Tenant,
    binding: TenantChannel,
    current: RolloutControl,
    now: number,
  ): Promise<{ control: RolloutControl; guard: GuardFinding }> {
    const window = guardWindow(r);
    const control: RolloutControl =
      current.window === window
        ? current
        : { ...current, window, guard: openGuard(r.phaseSince), decision: null };
    const shadow = window === 'shadow';
    // At 100% no control cohort is left: its silence is expected, as the canary's is in shadow.
    const full = !shadow && binding.canaryPercent >= 100;
    const q: CohortQuery = {
      tenantId: r.tenantId,
      channel: r.channel,
      candidateVersionId: u.toVersionId,
      stableVersionId: binding.stableVersionId,
      fromMs: control.guard.ledger.foldedThroughMs,
      toMs: now,
    };
    const [buckets, latency] = await Promise.all([
      this.deps.signals.buckets(q),
      // Latency compares the recent past (the guard's LatencyWindow), not the whole stage: a
      // quantile over days would both hide a fresh regression and cost a read of every minute.
      this.deps.signals.latency({
        ...q,
        fromMs: Math.max(control.guard.ledger.originMs, now - LATENCY_WINDOW_MS),
      }),
    ]);
    const ev = decide(
      control.guard,
      {
        buckets,
        source: this.deps.signals.status(now),
        policy: tenant.actionPolicy,
        ...(latency ? { latency } : {}),
      },
      { clock: this.deps.clock, config: shadow || full ? this.shadowConfig : this.config },
    );
    return {
      control: { ...control, guard: ev.state, decision: ev.decision },
      guard: findingOf(ev.decision, shadow ? 'canary' : full ? 'control' : 'none'),
    };
  }

  // ---- effects: each looks before it writes, so applying one again changes nothing ----------

  private async apply(step: StepEffect, ctx: PassContext): Promise<string | null> {
    const { upgrade: u, rollout: r } = ctx;
    const e = step.effect;
    const change = {
      actor: CONTROLLER_ACTOR,
      reason: `upgrade ${u.id} (${u.fromVersionId} -> ${u.toVersionId}): ${step.stepId}`,
    };
    const binding = async () => {
      const b = await this.deps.registryStore.get('tenant_channel', `${r.tenantId}:${r.channel}`);
      if (!b) throw new Error(`tenant '${r.tenantId}' has no binding for channel '${r.channel}'`);
      return b;
    };
    switch (e.kind) {
      case 'set_traffic': {
        const b = await binding();
        const freeze = e.canaryPercent === 0 && e.shadowPercent === 0;
        if (freeze && b.candidateVersionId !== u.toVersionId) return 'no candidate traffic to freeze';
        if (
          b.candidateVersionId === u.toVersionId &&
          b.upgradeId === u.id &&
          b.canaryPercent === e.canaryPercent &&
          b.shadowPercent === e.shadowPercent
        )
          return 'already set';
        await this.deps.registry.updateChannel(change, r.tenantId, r.channel, {
          candidateVersionId: u.toVersionId,
          upgradeId: u.id,
          canaryPercent: e.canaryPercent,
          shadowPercent: e.shadowPercent,
        });
        return `canary ${e.canaryPercent}%, shadow ${e.shadowPercent}%`;
      }
      case 'promote': {
        const b = await binding();
        if (b.stableVersionId === u.toVersionId && b.candidateVersionId === null) return 'already stable';
        await this.deps.registry.updateChannel(change, r.tenantId, r.channel, {
          stableVersionId: u.toVersionId,
          candidateVersionId: null,
          upgradeId: null,
          canaryPercent: 0,
          shadowPercent: 0,
        });
        return `${u.toVersionId} is stable`;
      }
      case 'hard_cut':
        await this.deps.pins.hardCut(r.tenantId, u.toVersionId);
        return `sessions on ${u.toVersionId} cut`;
      case 'clear_candidate': {
        const b = await binding();
        if (b.candidateVersionId !== u.toVersionId && b.upgradeId !== u.id) return 'already cleared';
        await this.deps.registry.updateChannel(change, r.tenantId, r.channel, {
          candidateVersionId: null,
          upgradeId: null,
          canaryPercent: 0,
          shadowPercent: 0,
        });
        return `${u.toVersionId} rolled back for this tenant`;
      }
      case 'start_bets': {
        const runs = await this.deps.bets.startRuns(
          { tenantId: r.tenantId, channel: r.channel, candidateVersionId: u.toVersionId, upgradeId: u.id },
          CONTROLLER_ACTOR,
        );
        ctx.control = { ...ctx.control, betsRuns: [...ctx.control.betsRuns, ...runs] };
        return runs.length ? `started ${runs.join(', ')}` : 'runs already exist';
      }
      case 'incident': {
        ctx.incidentId = await this.writeIncident(step, ctx, e.reason);
        return ctx.incidentId;
      }
      case 'notify': {
        await this.deps.notifier.notify({
          id: stableId('ntf', r.id, step.stepId),
          event: e.event,
          upgradeId: u.id,
          rolloutId: r.id,
          tenantId: r.tenantId,
          channel: r.channel,
          detail: e.detail,
          incidentId: ctx.incidentId,
          atMs: ctx.nowMs,
        });
        return e.event;
      }
    }
  }

  private async writeIncident(step: StepEffect, ctx: PassContext, reason: string): Promise<string> {
    const { upgrade: u, rollout: r, control, nowMs } = ctx;
    const id = stableId('inc', r.id, step.stepId);
    const fromMs = control.guard.ledger.originMs;
    const q: CohortQuery = {
      tenantId: r.tenantId,
      channel: r.channel,
      candidateVersionId: u.toVersionId,
      stableVersionId: ctx.binding.stableVersionId,
      fromMs,
      toMs: nowMs,
    };
    const [buckets, latency, samples, sessions] = await Promise.all([
      this.deps.signals.buckets(q),
      this.deps.signals.latency(q),
      this.deps.samples?.sample(r.tenantId, u.toVersionId, this.opts.incidentSamples) ?? [],
      this.deps.sessions.active(r.tenantId, u.toVersionId, nowMs),
    ]);
    const stopped = control.stoppedAt;
    const stage =
      stopped && (stopped.phase === 'canary' || stopped.phase === 'awaiting_approval') ? stopped.stage : null;
    const percent =
      stopped?.phase === 'canary'
        ? (ctx.group.plan.stages[stopped.stage]?.percent ?? null)
        : stopped?.phase === 'awaiting_approval' && stopped.stage > 0
          ? (ctx.group.plan.stages[stopped.stage - 1]?.percent ?? null)
          : null;
    await this.deps.incidents.put(
      buildIncidentReport({
        id,
        kind: r.phase === 'paused' ? 'escalation' : 'rollback',
        upgradeId: u.id,
        rolloutId: r.id,
        tenantId: r.tenantId,
        channel: r.channel,
        groupId: r.groupId,
        candidateVersionId: u.toVersionId,
        stableVersionId: ctx.binding.stableVersionId,
        nowMs,
        reason,
        stoppedAt: {
          phase: stopped?.phase ?? r.phase,
          stage: stage === null ? null : stage + 1,
          canaryPercent: percent,
        },
        trigger: control.trigger,
        buckets,
        window: { fromMs, toMs: nowMs },
        latency,
        samples,
        sessionsCut: r.phase === 'paused' ? null : sessions,
      }),
    );
    return id;
  }

  // ---- upgrade level ------------------------------------------------------------------------

  /** A running or paused upgrade whose every rollout is at rest is complete. */
  private async finishUpgrade(u: Upgrade): Promise<void> {
    if (u.state !== 'running' && u.state !== 'paused') return;
    const rollouts = await this.deps.rollouts.listRollouts({ upgradeId: u.id });
    if (!rollouts.every((r) => isTerminal(r.phase))) return;
    const now = this.deps.clock.now();
    const done: Upgrade = { ...u, state: 'complete', version: u.version + 1, updatedAt: this.iso(now) };
    if (!(await this.deps.rollouts.updateUpgrade(done, u.version))) return;
    const count = (p: RolloutPhase) => rollouts.filter((r) => r.phase === p).length;
    const detail = `${count('complete')} complete, ${count('rolled_back')} rolled back, ${count('blocked')} blocked, ${count('skipped')} skipped`;
    await this.deps.rollouts.appendEvent({
      upgradeId: u.id,
      rolloutId: null,
      tenantId: null,
      atMs: now,
      actor: CONTROLLER_ACTOR,
      action: 'upgrade_complete',
      detail,
    });
    await this.deps.notifier.notify({
      id: stableId('ntf', u.id, 'upgrade_complete'),
      event: 'upgrade_complete',
      upgradeId: u.id,
      rolloutId: null,
      tenantId: null,
      channel: u.channel,
      detail,
      incidentId: null,
      atMs: now,
    });
    await this.lifecycle(done);
  }

  /**
   * After an upgrade: the new version is active; the version it replaced, once no binding uses it,
   * stays warm for `warmDays` (sessions pinned to it finish there) and is then retired.
   */
  private async lifecycle(u: Upgrade): Promise<void> {
    const rs = this.deps.registryStore;
    const from = await rs.get('model_version', u.fromVersionId);
    if (!from || from.lifecycle === 'retired') return;
    const rollouts = await this.deps.rollouts.listRollouts({ upgradeId: u.id });
    if (!rollouts.some((r) => r.phase === 'complete')) return;
    const now = this.deps.clock.now();
    const change = { actor: CONTROLLER_ACTOR, reason: `upgrade ${u.id} complete` };
    const to = await rs.get('model_version', u.toVersionId);
    if (to?.lifecycle === 'candidate')
      await this.deps.registry.updateModel(change, to.id, { lifecycle: 'active' });
    const used = (await rs.list('tenant_channel')).some(
      (b) => b.stableVersionId === from.id || b.candidateVersionId === from.id,
    );
    if (used) return;
    if (from.lifecycle !== 'warm') {
      await this.deps.registry.updateModel(
        { ...change, reason: `${change.reason}: no tenant uses it; warm for ${this.opts.warmDays} days` },
        from.id,
        { lifecycle: 'warm', warmUntil: this.iso(now + this.opts.warmDays * DAY) },
      );
    } else if (from.warmUntil !== null && Date.parse(from.warmUntil) <= now) {
      await this.deps.registry.updateModel(
        { ...change, reason: `warm period of ${from.id} ended` },
        from.id,
        {
          lifecycle: 'retired',
        },
      );
    }
  }
}

/** Notifications into the outbox, one row per configured endpoint. */
export class OutboxNotifier implements Notifier {
  constructor(
    private readonly outbox: {
      enqueue(n: Notification, endpointIds: readonly string[], nowMs: number): Promise<number>;
    },
    private readonly endpointIds: readonly string[],
  ) {}

  async notify(n: Notification): Promise<void> {
    if (this.endpointIds.length > 0) await this.outbox.enqueue(n, this.endpointIds, n.atMs);
  }
}
