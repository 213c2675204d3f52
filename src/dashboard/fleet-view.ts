import { createHash } from 'node:crypto';
import type { Principal } from '../admin/principal.js';
import type { TenantVerdict } from '../bets/run-types.js';
import type { RegistryStore } from '../registry/registry-store.js';
import type { ApprovalParty, RolloutGroup, Tenant, TenantChannel } from '../registry/types.js';
import type { RolloutEvent, RolloutStore } from '../rollout/rollout-store.js';
import type { RolloutPhase, TenantRollout, Upgrade } from '../rollout/rollout-types.js';
import type { Clock } from '../shared/clock.js';
import { type FleetTenantSummary, fleetSummary } from '../telemetry/rollups/metrics-query.js';
import type { RollupStore } from '../telemetry/rollups/rollup-types.js';
import {
  type Criticality,
  criticalityOf,
  type FleetHealth,
  fleetHealth,
  type HealthStatus,
  tenantHealth,
} from './health.js';

/** What the dashboard reads; each is a port the composition root already has. */
export interface FleetSources {
  store: Pick<RegistryStore, 'list' | 'get' | 'version'>;
  rollouts: Pick<RolloutStore, 'listUpgrades' | 'listRollouts' | 'listEvents'>;
  /** BETS verdicts; without it the BETS column stays empty. */
  bets?: { listVerdicts(opts: { tenantId?: string; upgradeId?: string }): Promise<TenantVerdict[]> };
  /** Per-minute rollups; without them no canary-vs-control figures (and no rate-based health). */
  rollups?: RollupStore;
  clock: Clock;
  /** Whole minutes of traffic the fleet table summarises (default 15). */
  metricsWindowMinutes?: number;
  /** Completed upgrades, newest first, whose outcome still shows in the table (default 3). */
  recentCompleteUpgrades?: number;
}

export interface RolloutSummary {
  upgradeId: string;
  rolloutId: string;
  phase: RolloutPhase;
  /** 1-based stage while in canary or awaiting approval, else null. */
  stage: number | null;
  stageCount: number | null;
  /** Canary share of the current (or awaited) stage in the group's plan. */
  stagePercent: number | null;
  rollbackStep: string | null;
  resumePhase: RolloutPhase | null;
  phaseSince: string;
  reason: string | null;
  guard: { verdict: string; reason: string; signal: string | null; at: string } | null;
  /** The approvals the awaited stage needs, and those given; null unless awaiting approval. */
  approval: ApprovalNeed | null;
  betsRuns: string[];
  version: number;
}

export interface ApprovalNeed {
  stage: number;
  needs: ApprovalParty[];
  given: { party: ApprovalParty; by: string; at: string }[];
  missing: ApprovalParty[];
}

export interface CohortFigures {
  requests: number;
  errorRate: number | null;
  toolCallInvalidRate: number | null;
  coercionRate: number | null;
  taskFailureRate: number | null;
  latencyP99Ms: number | null;
}

export interface FleetRow {
  tenantId: string;
  name: string;
  group: string;
  groupRank: number;
  criticality: Criticality;
  frozen: boolean;
  channel: string | null;
  stableVersionId: string | null;
  candidateVersionId: string | null;
  canaryPercent: number;
  shadowPercent: number;
  pinned: boolean;
  rollout: RolloutSummary | null;
  bets: { outcome: string; reasons: string[] } | null;
  metrics: { canary: CohortFigures; control: CohortFigures; judgeMean: number | null; judgeN: number } | null;
  health: { status: HealthStatus; reasons: string[] };
}

export interface UpgradeSummary {
  id: string;
  channel: string;
  fromVersionId: string;
  toVersionId: string;
  state: Upgrade['state'];
  createdAt: string;
  createdBy: string;
  counts: Partial<Record<RolloutPhase, number>>;
}

export interface FleetView {
  revision: string;
  generatedAt: string;
  principal: Principal;
  metricsWindowMinutes: number;
  upgrades: UpgradeSummary[];
  health: FleetHealth;
  totals: {
    tenants: number;
    rows: number;
    inShadow: number;
    inCanary: number;
    blocked: number;
    rollingBack: number;
    rolledBack: number;
    awaitingApproval: number;
    paused: number;
    complete: number;
  };
  approvalsWaiting: { tenantId: string; upgradeId: string; channel: string; approval: ApprovalNeed }[];
  rows: FleetRow[];
}

export interface TenantDetail {
  revision: string;
  /** The server's clock (it may run on a simulated timeline): what the page's windows are relative to. */
  generatedAt: string;
  tenant: Pick<
    Tenant,
    'id' | 'name' | 'rolloutGroup' | 'frozen' | 'failurePolicy' | 'actionPolicy' | 'riskProfile' | 'contacts'
  >;
  group: Pick<RolloutGroup, 'id' | 'name' | 'rank' | 'plan'> | null;
  bindings: Pick<
    TenantChannel,
    | 'channel'
    | 'stableVersionId'
    | 'candidateVersionId'
    | 'canaryPercent'
    | 'shadowPercent'
    | 'upgradeId'
    | 'pinned'
  >[];
  /** Newest first: each upgrade this tenant took part in, its rollout and its history. */
  rollouts: { upgrade: UpgradeSummary; rollout: RolloutSummary; events: RolloutEvent[] }[];
  verdicts: TenantVerdict[];
}

const STAGED: ReadonlySet<RolloutPhase> = new Set(['canary', 'awaiting_approval']);
const ACTIVE_UPGRADE = (u: Upgrade) => u.state !== 'complete';

export function rolloutSummary(r: TenantRollout, group: RolloutGroup | undefined): RolloutSummary {
  const staged = STAGED.has(r.phase);
  const stages = group?.plan.stages;
  const planStage = staged ? stages?.[r.stage] : undefined;
  const d = r.control?.decision ?? null;
  let approval: ApprovalNeed | null = null;
  if (r.phase === 'awaiting_approval' && planStage) {
    const given = r.approvals
      .filter((a) => a.stage === r.stage)
      .map((a) => ({ party: a.party, by: a.by, at: a.at }));
    approval = {
      stage: r.stage + 1,
      needs: [...planStage.approvals],
      given,
      missing: planStage.approvals.filter((p) => !given.some((g) => g.party === p)),
    };
  }
  return {
    upgradeId: r.upgradeId,
    rolloutId: r.id,
    phase: r.phase,
    stage: staged ? r.stage + 1 : null,
    stageCount: stages ? stages.length : null,
    stagePercent: planStage?.percent ?? null,
    rollbackStep: r.rollbackStep,
    resumePhase: r.resumePhase,
    phaseSince: new Date(r.phaseSince).toISOString(),
    reason: r.reason,
    guard: d
      ? { verdict: d.verdict, reason: d.reason, signal: d.signal, at: new Date(d.atMs).toISOString() }
      : null,
    approval,
    betsRuns: r.control?.betsRuns ?? [],
    version: r.version,
  };
}

function upgradeSummary(u: Upgrade, rollouts: readonly TenantRollout[]): UpgradeSummary {
  const counts: Partial<Record<RolloutPhase, number>> = {};
  for (const r of rollouts) counts[r.phase] = (counts[r.phase] ?? 0) + 1;
  return {
    id: u.id,
    channel: u.channel,
    fromVersionId: u.fromVersionId,
    toVersionId: u.toVersionId,
    state: u.state,
    createdAt: u.createdAt,
    createdBy: u.createdBy,
    counts,
  };
}

function figures(c: FleetTenantSummary['canary']): CohortFigures {
  return {
    requests: c.requests,
    errorRate: c.errorRate,
    toolCallInvalidRate: c.toolCallInvalidRate,
    coercionRate: c.coercionRate,
    taskFailureRate: c.taskFailureRate,
    latencyP99Ms: c.latencyMs.p99,
  };
}

const scopeOf = (p: Principal): string | null => (p.role === 'tenant_contact' ? (p.tenantId ?? '') : null);

/** A short, stable digest of everything a view depends on: equal revisions, equal views. */
function digest(parts: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\u0000');
  return h.digest('base64url').slice(0, 22);
}

/**
 * What the dashboard's data depends on, read cheaply: the registry records of tenants and
 * bindings (reloaded only when the registry version moves), the upgrades, the rollouts of
 * upgrades still moving, and the current minute (the metrics window slides once a minute).
 * A revision is scoped: a tenant contact's revision depends on its own tenant only, so it learns
 * nothing about when other tenants change.
 */
export interface RevisionState {
  registryVersion: number;
  minute: number;
  upgrades: string[];
  /** tenant id -> the parts of its own registry records and rollouts. */
  tenants: Map<string, string[]>;
}

export function revisionOf(state: RevisionState, scope: string | null): string {
  // Sorted: the same records read in another order are the same state.
  if (scope !== null)
    return digest([String(state.minute), ...[...(state.tenants.get(scope) ?? ['absent'])].sort()]);
  return digest([String(state.registryVersion), String(state.minute), ...[...state.upgrades].sort()]);
}

function revisionState(
  registryVersion: number,
  nowMs: number,
  tenants: readonly Tenant[],
  bindings: readonly TenantChannel[],
  upgrades: readonly Upgrade[],
  moving: readonly TenantRollout[],
): RevisionState {
  const byTenant = new Map<string, string[]>();
  const part = (tenantId: string, s: string) => {
    let list = byTenant.get(tenantId);
    if (!list) {
      list = [];
      byTenant.set(tenantId, list);
    }
    list.push(s);
  };
  for (const t of tenants) part(t.id, `t:${t.version}`);
  for (const b of bindings) part(b.tenantId, `b:${b.channel}:${b.version}`);
  const upgradeState = new Map(upgrades.map((u) => [u.id, `${u.state}:${u.version}`]));
  for (const r of moving) part(r.tenantId, `r:${r.id}:${r.version}:${upgradeState.get(r.upgradeId) ?? ''}`);
  return {
    registryVersion,
    minute: Math.floor(nowMs / 60_000),
    upgrades: [
      ...upgrades.map((u) => `u:${u.id}:${u.version}`),
      ...moving.map((r) => `r:${r.id}:${r.version}`),
    ],
    tenants: byTenant,
  };
}

/**
 * Builds the dashboard's views from the stores: the whole fleet in one response (a handful of
 * queries whatever the number of tenants), one tenant's detail, and the revision the live
 * stream pushes. The fleet's metrics summary is one read of every tenant's rollups over the
 * window, kept for `summaryTtlMs` (it changes once a minute, when a minute closes).
 */
export class FleetViews {
  private readonly windowMinutes: number;
  private readonly recentComplete: number;
  private summary: { key: number; atMs: number; rows: Promise<FleetTenantSummary[]> } | null = null;
  private registryCache: {
    version: number;
    tenants: Tenant[];
    bindings: TenantChannel[];
    groups: RolloutGroup[];
  } | null = null;

  constructor(
    private readonly src: FleetSources,
    private readonly summaryTtlMs = 15_000,
  ) {
    this.windowMinutes = src.metricsWindowMinutes ?? 15;
    this.recentComplete = src.recentCompleteUpgrades ?? 3;
  }

  /** Tenants, bindings and groups, read again only when the registry version moved. */
  private async registry() {
    const version = await this.src.store.version();
    if (this.registryCache?.version === version) return this.registryCache;
    const [tenants, bindings, groups] = await Promise.all([
      this.src.store.list('tenant'),
      this.src.store.list('tenant_channel'),
      this.src.store.list('rollout_group'),
    ]);
    this.registryCache = { version, tenants, bindings, groups };
    return this.registryCache;
  }

  private metrics(): Promise<FleetTenantSummary[]> {
    if (!this.src.rollups) return Promise.resolve([]);
    const now = this.src.clock.now();
    const key = Math.floor(now / 60_000);
    const fresh = this.summary && this.summary.key === key && now - this.summary.atMs < this.summaryTtlMs;
    if (!fresh) {
      const rows = fleetSummary(this.src.rollups, { nowMs: now, minutes: this.windowMinutes });
      // A failed read is not cached: the next request tries again.
      rows.catch(() => {
        if (this.summary?.rows === rows) this.summary = null;
      });
      this.summary = { key, atMs: now, rows };
    }
    return (this.summary as { rows: Promise<FleetTenantSummary[]> }).rows;
  }

  /** The upgrades shown: every one still moving, and the newest few complete ones. */
  private async upgradesShown(): Promise<{ all: Upgrade[]; shown: Upgrade[] }> {
    const all = await this.src.rollouts.listUpgrades();
    const complete = all
      .filter((u) => !ACTIVE_UPGRADE(u))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, this.recentComplete);
    const keep = new Set([...all.filter(ACTIVE_UPGRADE), ...complete].map((u) => u.id));
    return {
      all,
      shown: all.filter((u) => keep.has(u.id)).sort((a, b) => b.createdAt.localeCompare(a.createdAt)),
    };
  }

  /** The revision of the caller's view, for the live stream: cheap enough to run every few seconds. */
  async revision(scopes: readonly (string | null)[]): Promise<Map<string | null, string>> {
    const [reg, upgrades] = await Promise.all([this.registry(), this.src.rollouts.listUpgrades()]);
    const moving = (
      await Promise.all(
        upgrades.filter(ACTIVE_UPGRADE).map((u) => this.src.rollouts.listRollouts({ upgradeId: u.id })),
      )
    ).flat();
    const state = revisionState(
      reg.version,
      this.src.clock.now(),
      reg.tenants,
      reg.bindings,
      upgrades,
      moving,
    );
    return new Map(scopes.map((s) => [s, revisionOf(state, s)]));
  }

  async fleet(p: Principal): Promise<FleetView> {
    const scope = scopeOf(p);
    const now = this.src.clock.now();
    const [reg, { all, shown }, metrics] = await Promise.all([
      this.registry(),
      this.upgradesShown(),
      this.metrics(),
    ]);
    const rolloutsByUpgrade = new Map<string, TenantRollout[]>();
    await Promise.all(
      shown.map(async (u) => {
        rolloutsByUpgrade.set(
          u.id,
          await this.src.rollouts.listRollouts({
            upgradeId: u.id,
            ...(scope !== null ? { tenantId: scope } : {}),
          }),
        );
      }),
    );
    const verdicts = this.src.bets
      ? (
          await Promise.all(
            shown
              .filter(ACTIVE_UPGRADE)
              .map((u) =>
                (this.src.bets as NonNullable<FleetSources['bets']>).listVerdicts({ upgradeId: u.id }),
              ),
          )
        ).flat()
      : [];

    const groups = new Map(reg.groups.map((g) => [g.id, g]));
    const inScope = (tenantId: string) => scope === null || tenantId === scope;
    const tenants = reg.tenants.filter((t) => inScope(t.id)).sort((a, b) => a.id.localeCompare(b.id));
    const bindingsOf = new Map<string, TenantChannel[]>();
    for (const b of reg.bindings) {
      if (!inScope(b.tenantId)) continue;
      bindingsOf.set(b.tenantId, [...(bindingsOf.get(b.tenantId) ?? []), b]);
    }
    // The newest upgrade's rollout wins for each tenant and channel (shown is newest first).
    const current = new Map<string, TenantRollout>();
    for (const u of shown) {
      for (const r of rolloutsByUpgrade.get(u.id) ?? []) {
        const key = `${r.tenantId}\u0000${r.channel}`;
        if (!current.has(key)) current.set(key, r);
      }
    }
    const verdictOf = new Map<string, TenantVerdict>();
    for (const v of verdicts) {
      const key = `${v.tenantId}\u0000${v.channel}\u0000${v.upgradeId}`;
      const seen = verdictOf.get(key);
      if (!seen || v.decidedAt > seen.decidedAt) verdictOf.set(key, v);
    }
    const metricsOf = new Map(metrics.map((m) => [`${m.tenantId}\u0000${m.channel}`, m]));

    const rows: FleetRow[] = [];
    for (const t of tenants) {
      const group = groups.get(t.rolloutGroup);
      const criticality = criticalityOf(t.riskProfile.criticality);
      const bindings = (bindingsOf.get(t.id) ?? []).sort((a, b) => a.channel.localeCompare(b.channel));
      const channels: (TenantChannel | null)[] = bindings.length > 0 ? bindings : [null];
      for (const b of channels) {
        const r = b ? current.get(`${t.id}\u0000${b.channel}`) : undefined;
        // A skipped rollout stays visible, with why (frozen, pinned by contract).
        const rollout = r ? rolloutSummary(r, groups.get(r.groupId) ?? group) : null;
        const m = b ? metricsOf.get(`${t.id}\u0000${b.channel}`) : undefined;
        const v = r && b ? verdictOf.get(`${t.id}\u0000${b.channel}\u0000${r.upgradeId}`) : undefined;
        const canary = m ? figures(m.canary) : null;
        const control = m ? figures(m.control) : null;
        rows.push({
          tenantId: t.id,
          name: t.name,
          group: t.rolloutGroup,
          groupRank: group?.rank ?? Number.MAX_SAFE_INTEGER,
          criticality,
          frozen: t.frozen,
          channel: b?.channel ?? null,
          stableVersionId: b?.stableVersionId ?? null,
          candidateVersionId: b?.candidateVersionId ?? null,
          canaryPercent: b?.canaryPercent ?? 0,
          shadowPercent: b?.shadowPercent ?? 0,
          pinned: b?.pinned ?? false,
          rollout,
          bets: v ? { outcome: v.outcome, reasons: v.reasons } : null,
          metrics:
            m && canary && control ? { canary, control, judgeMean: m.judge.mean, judgeN: m.judge.n } : null,
          health: tenantHealth({
            phase: rollout?.phase ?? null,
            guardVerdict: rollout?.guard?.verdict ?? null,
            guardReason: rollout?.guard?.reason ?? null,
            reason: rollout?.reason ?? null,
            canary,
            control,
          }),
        });
      }
    }

    const phaseCount = (phase: RolloutPhase) => rows.filter((r) => r.rollout?.phase === phase).length;
    const moving = all
      .filter(ACTIVE_UPGRADE)
      .flatMap((u) => rolloutsByUpgrade.get(u.id) ?? [])
      .filter((r) => inScope(r.tenantId));
    const state = revisionState(reg.version, now, reg.tenants, reg.bindings, all, moving);
    const upgrades = shown
      .map((u) => upgradeSummary(u, rolloutsByUpgrade.get(u.id) ?? []))
      // A tenant contact sees only the upgrades its tenant takes part in.
      .filter((u) => scope === null || Object.keys(u.counts).length > 0);
    return {
      revision: revisionOf(state, scope),
      generatedAt: new Date(now).toISOString(),
      principal: p,
      metricsWindowMinutes: this.windowMinutes,
      upgrades,
      health: fleetHealth(rows.map((r) => ({ criticality: r.criticality, status: r.health.status }))),
      totals: {
        tenants: tenants.length,
        rows: rows.length,
        inShadow: phaseCount('shadow'),
        inCanary: phaseCount('canary'),
        blocked: phaseCount('blocked'),
        rollingBack: phaseCount('rolling_back'),
        rolledBack: phaseCount('rolled_back'),
        awaitingApproval: phaseCount('awaiting_approval'),
        paused: phaseCount('paused'),
        complete: phaseCount('complete'),
      },
      approvalsWaiting: rows.flatMap((r) =>
        r.rollout?.approval && r.channel
          ? [
              {
                tenantId: r.tenantId,
                upgradeId: r.rollout.upgradeId,
                channel: r.channel,
                approval: r.rollout.approval,
              },
            ]
          : [],
      ),
      rows,
    };
  }

  /** One tenant: its record, plan, bindings, every rollout with its history, and its BETS verdicts. */
  async tenant(tenantId: string): Promise<TenantDetail | undefined> {
    const t = await this.src.store.get('tenant', tenantId);
    if (!t) return undefined;
    const [reg, group, bindings, rollouts, upgrades, verdicts] = await Promise.all([
      this.registry(),
      this.src.store.get('rollout_group', t.rolloutGroup),
      this.src.store.list('tenant_channel', { tenantId }),
      this.src.rollouts.listRollouts({ tenantId }),
      this.src.rollouts.listUpgrades(),
      this.src.bets ? this.src.bets.listVerdicts({ tenantId }) : Promise.resolve([]),
    ]);
    const byId = new Map(upgrades.map((u) => [u.id, u]));
    const groups = new Map(reg.groups.map((g) => [g.id, g]));
    const mine = rollouts
      .filter((r) => byId.has(r.upgradeId))
      .sort((a, b) => b.startedAt - a.startedAt || b.id.localeCompare(a.id))
      .slice(0, 10);
    const detail = await Promise.all(
      mine.map(async (r) => ({
        upgrade: upgradeSummary(byId.get(r.upgradeId) as Upgrade, [r]),
        rollout: rolloutSummary(r, groups.get(r.groupId) ?? group),
        events: await this.src.rollouts.listEvents({ upgradeId: r.upgradeId, tenantId, limit: 200 }),
      })),
    );
    const moving = rollouts.filter((r) => {
      const u = byId.get(r.upgradeId);
      return u !== undefined && ACTIVE_UPGRADE(u);
    });
    const now = this.src.clock.now();
    const state = revisionState(reg.version, now, [t], bindings, upgrades, moving);
    return {
      revision: revisionOf(state, tenantId),
      generatedAt: new Date(now).toISOString(),
      tenant: {
        id: t.id,
        name: t.name,
        rolloutGroup: t.rolloutGroup,
        frozen: t.frozen,
        failurePolicy: t.failurePolicy,
        actionPolicy: t.actionPolicy,
        riskProfile: t.riskProfile,
        contacts: t.contacts,
      },
      group: group ? { id: group.id, name: group.name, rank: group.rank, plan: group.plan } : null,
      bindings: bindings.map((b) => ({
        channel: b.channel,
        stableVersionId: b.stableVersionId,
        candidateVersionId: b.candidateVersionId,
        canaryPercent: b.canaryPercent,
        shadowPercent: b.shadowPercent,
        upgradeId: b.upgradeId,
        pinned: b.pinned,
      })),
      rollouts: detail,
      verdicts: verdicts.sort((a, b) => b.decidedAt.localeCompare(a.decidedAt)).slice(0, 20),
    };
  }
}
