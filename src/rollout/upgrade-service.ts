import type { Principal } from '../admin/principal.js';
import type { RegistryStore } from '../registry/registry-store.js';
import type { ApprovalParty } from '../registry/types.js';
import type { Clock } from '../shared/clock.js';
import { forbidden, invalidInput, notFound, SwitchyardError } from '../shared/errors.js';
import { newId } from '../shared/ids.js';
import { isTerminal } from './reconcile.js';
import type { RolloutEvent, RolloutStore } from './rollout-store.js';
import type { RolloutPhase, TenantRollout, Upgrade } from './rollout-types.js';

export interface StartUpgrade {
  channel: string;
  fromVersionId: string;
  toVersionId: string;
  /** Only these tenants (default: every tenant on `fromVersionId`). */
  tenants?: string[];
  reason?: string;
}

/** A rollout as the API shows it: the guard's ledger stays inside; its latest decision is shown. */
export interface RolloutView {
  id: string;
  tenantId: string;
  groupId: string;
  phase: RolloutPhase;
  /** 1-based stage while in canary or awaiting approval; null otherwise. */
  stage: number | null;
  resumePhase: RolloutPhase | null;
  rollbackStep: string | null;
  reason: string | null;
  phaseSince: string;
  approvals: { stage: number; party: ApprovalParty; by: string; at: string }[];
  guard: { verdict: string; reason: string; signal: string | null; at: string } | null;
  betsRuns: string[];
  version: number;
}

export interface UpgradeStatus {
  upgrade: Upgrade;
  counts: Partial<Record<RolloutPhase, number>>;
  rollouts: RolloutView[];
  skipped: { tenantId: string; reason: string | null }[];
  events: RolloutEvent[];
}

const invalidState = (message: string, hint: string) =>
  new SwitchyardError(409, 'invalid_state', message, { hint });

/** The person behind a token: its name (`token:<id>/<name>`). Two tokens of one person share it. */
export function personOf(actor: string): string {
  const slash = actor.indexOf('/');
  return slash >= 0 ? actor.slice(slash + 1) : actor;
}

function view(r: TenantRollout): RolloutView {
  const staged = r.phase === 'canary' || r.phase === 'awaiting_approval';
  const d = r.control?.decision ?? null;
  return {
    id: r.id,
    tenantId: r.tenantId,
    groupId: r.groupId,
    phase: r.phase,
    stage: staged ? r.stage + 1 : null,
    resumePhase: r.resumePhase,
    rollbackStep: r.rollbackStep,
    reason: r.reason,
    phaseSince: new Date(r.phaseSince).toISOString(),
    approvals: r.approvals.map((a) => ({ ...a, stage: a.stage + 1 })),
    guard: d
      ? { verdict: d.verdict, reason: d.reason, signal: d.signal, at: new Date(d.atMs).toISOString() }
      : null,
    betsRuns: r.control?.betsRuns ?? [],
    version: r.version,
  };
}

/**
 * What people do to upgrades: start one, pause, resume and abort it (or one tenant of it), and
 * approve or reject a stage. Every action is a guarded write of the upgrade or rollout (retried
 * when the controller wrote in between) plus a line in the upgrade's history; the controller's
 * next pass acts on it.
 */
export class UpgradeService {
  constructor(private readonly deps: { rollouts: RolloutStore; registry: RegistryStore; clock: Clock }) {}

  private now(): number {
    return this.deps.clock.now();
  }

  private event(u: string, r: TenantRollout | null, actor: string, action: string, detail: string | null) {
    return this.deps.rollouts.appendEvent({
      upgradeId: u,
      rolloutId: r?.id ?? null,
      tenantId: r?.tenantId ?? null,
      atMs: this.now(),
      actor,
      action,
      detail,
    });
  }

  async start(input: StartUpgrade, actor: string): Promise<UpgradeStatus> {
    const reg = this.deps.registry;
    const problems: { path: string; message: string }[] = [];
    const from = await reg.get('model_version', input.fromVersionId);
    const to = await reg.get('model_version', input.toVersionId);
    if (!from)
      problems.push({
        path: '/body/fromVersionId',
        message: `model version '${input.fromVersionId}' does not exist`,
      });
    else if (from.channel !== input.channel)
      problems.push({
        path: '/body/fromVersionId',
        message: `serves channel '${from.channel}', not '${input.channel}'`,
      });
    if (!to)
      problems.push({
        path: '/body/toVersionId',
        message: `model version '${input.toVersionId}' does not exist`,
      });
    else if (to.channel !== input.channel)
      problems.push({
        path: '/body/toVersionId',
        message: `serves channel '${to.channel}', not '${input.channel}'`,
      });
    else if (to.lifecycle === 'retired') problems.push({ path: '/body/toVersionId', message: 'is retired' });
    if (input.fromVersionId === input.toVersionId)
      problems.push({ path: '/body/toVersionId', message: 'must differ from fromVersionId' });
    if (problems.length > 0) {
      throw new SwitchyardError(400, 'invalid_reference', 'the upgrade names versions it cannot use', {
        details: problems,
        hint: 'List model versions with `switchyard models list`.',
      });
    }
    const active = (await this.deps.rollouts.listUpgrades()).find(
      (u) => u.channel === input.channel && (u.state === 'running' || u.state === 'paused'),
    );
    if (active) {
      throw new SwitchyardError(
        409,
        'upgrade_in_progress',
        `upgrade '${active.id}' of channel '${input.channel}' is still ${active.state}`,
        {
          hint: 'Wait for it to complete, or abort it first.',
        },
      );
    }
    const wanted = input.tenants ? new Set(input.tenants) : null;
    const bindings = (await reg.list('tenant_channel')).filter(
      (b) => b.channel === input.channel && (!wanted || wanted.has(b.tenantId)),
    );
    if (wanted) {
      const bound = new Set(bindings.map((b) => b.tenantId));
      const unknown = [...wanted].filter((t) => !bound.has(t));
      if (unknown.length > 0)
        throw invalidInput(
          'some tenants are not bound to the channel',
          unknown.map((t) => ({
            path: '/body/tenants',
            message: `'${t}' has no binding for '${input.channel}'`,
          })),
        );
    }
    const onFrom = bindings.filter((b) => b.stableVersionId === input.fromVersionId);
    if (onFrom.length === 0) {
      throw invalidInput(`no tenant runs '${input.fromVersionId}' on channel '${input.channel}'`, [
        { path: '/body/fromVersionId', message: 'no channel binding has it as stable' },
      ]);
    }
    const now = this.now();
    const iso = new Date(now).toISOString();
    const upgrade: Upgrade = {
      id: newId('upg'),
      channel: input.channel,
      fromVersionId: input.fromVersionId,
      toVersionId: input.toVersionId,
      state: 'running',
      createdBy: actor,
      reason: input.reason ?? null,
      version: 1,
      createdAt: iso,
      updatedAt: iso,
    };
    const rollouts: TenantRollout[] = [];
    for (const b of onFrom) {
      const tenant = await reg.get('tenant', b.tenantId);
      if (!tenant) continue;
      const skip = tenant.frozen
        ? 'tenant is frozen'
        : b.pinned
          ? 'pinned by contract on this channel'
          : b.candidateVersionId !== null
            ? `already has candidate '${b.candidateVersionId}' on this channel`
            : null;
      rollouts.push({
        id: newId('ro'),
        upgradeId: upgrade.id,
        tenantId: b.tenantId,
        channel: input.channel,
        groupId: tenant.rolloutGroup,
        phase: skip ? 'skipped' : 'pending',
        resumePhase: null,
        stage: 0,
        phaseSince: now,
        startedAt: now,
        rollbackStep: null,
        reason: skip,
        approvals: [],
        appliedSteps: [],
        version: 1,
        createdAt: iso,
        updatedAt: iso,
      });
    }
    await this.deps.rollouts.createUpgrade(upgrade, rollouts);
    const eligible = rollouts.filter((r) => r.phase === 'pending').length;
    await this.event(
      upgrade.id,
      null,
      actor,
      'start',
      `${input.fromVersionId} -> ${input.toVersionId}: ${eligible} tenants, ${rollouts.length - eligible} skipped${input.reason ? `; ${input.reason}` : ''}`,
    );
    return this.status(upgrade.id, null);
  }

  async list(p: Principal | null): Promise<Upgrade[]> {
    const all = await this.deps.rollouts.listUpgrades();
    if (p?.role !== 'tenant_contact') return all;
    const mine = new Set(
      (await this.deps.rollouts.listRollouts({ tenantId: p.tenantId ?? '' })).map((r) => r.upgradeId),
    );
    return all.filter((u) => mine.has(u.id));
  }

  /** The upgrade with its rollouts; a tenant contact sees only its own tenant's (and 404 otherwise). */
  async status(id: string, p: Principal | null): Promise<UpgradeStatus> {
    const upgrade = await this.deps.rollouts.getUpgrade(id);
    if (!upgrade) throw notFound('Upgrade', id);
    const scope = p?.role === 'tenant_contact' ? (p.tenantId ?? '') : undefined;
    const rollouts = await this.deps.rollouts.listRollouts({
      upgradeId: id,
      ...(scope !== undefined ? { tenantId: scope } : {}),
    });
    if (scope !== undefined && rollouts.length === 0) throw notFound('Upgrade', id);
    const counts: Partial<Record<RolloutPhase, number>> = {};
    for (const r of rollouts) counts[r.phase] = (counts[r.phase] ?? 0) + 1;
    const events = (await this.deps.rollouts.listEvents({ upgradeId: id, limit: 200 })).filter(
      (e) => scope === undefined || e.tenantId === scope,
    );
    return {
      upgrade,
      counts,
      rollouts: rollouts.filter((r) => r.phase !== 'skipped').map(view),
      skipped: rollouts
        .filter((r) => r.phase === 'skipped')
        .map((r) => ({ tenantId: r.tenantId, reason: r.reason })),
      events,
    };
  }

  private async upgradeOrThrow(id: string): Promise<Upgrade> {
    const u = await this.deps.rollouts.getUpgrade(id);
    if (!u) throw notFound('Upgrade', id);
    return u;
  }

  private async rolloutOf(upgradeId: string, tenantId: string): Promise<TenantRollout> {
    const [r] = await this.deps.rollouts.listRollouts({ upgradeId, tenantId });
    if (!r) throw notFound('Rollout', `${upgradeId}/${tenantId}`);
    return r;
  }

  /** Changes the upgrade's state, retrying when the row moved in between. */
  private async setState(
    id: string,
    change: (u: Upgrade) => Upgrade['state'],
    actor: string,
    action: string,
    reason?: string,
  ) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const u = await this.upgradeOrThrow(id);
      const state = change(u);
      const next: Upgrade = {
        ...u,
        state,
        version: u.version + 1,
        updatedAt: new Date(this.now()).toISOString(),
      };
      if (await this.deps.rollouts.updateUpgrade(next, u.version)) {
        await this.event(id, null, actor, action, reason ?? null);
        return next;
      }
    }
    throw new SwitchyardError(409, 'version_conflict', `upgrade '${id}' kept changing; try again`);
  }

  /** Changes one rollout, retrying when the controller wrote it in between. */
  private async setRollout(
    upgradeId: string,
    tenantId: string,
    change: (r: TenantRollout) => TenantRollout | null,
    actor: string,
    action: string,
    detail: string | null,
  ): Promise<TenantRollout> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const r = await this.rolloutOf(upgradeId, tenantId);
      const changed = change(r);
      if (!changed) return r;
      const next: TenantRollout = {
        ...changed,
        version: r.version + 1,
        updatedAt: new Date(this.now()).toISOString(),
      };
      const ev: RolloutEvent = {
        upgradeId,
        rolloutId: r.id,
        tenantId,
        atMs: this.now(),
        actor,
        action,
        detail,
      };
      if (await this.deps.rollouts.writeStatus(next, r.version, [ev])) return next;
    }
    throw new SwitchyardError(
      409,
      'version_conflict',
      `the rollout of '${tenantId}' kept changing; try again`,
    );
  }

  async pause(id: string, actor: string, opts: { tenantId?: string; reason?: string }) {
    if (opts.tenantId !== undefined) {
      return this.setRollout(
        id,
        opts.tenantId,
        (r) => {
          if (isTerminal(r.phase) || r.phase === 'rolling_back')
            throw invalidState(
              `the rollout of '${r.tenantId}' is ${r.phase}`,
              'Only an active rollout can be paused.',
            );
          if (r.phase === 'paused') return null;
          return {
            ...r,
            phase: 'paused',
            resumePhase: r.phase,
            reason: `paused by ${personOf(actor)}${opts.reason ? `: ${opts.reason}` : ''}`,
          };
        },
        actor,
        'pause',
        opts.reason ?? null,
      );
    }
    return this.setState(
      id,
      (u) => {
        if (u.state === 'paused') return u.state;
        if (u.state !== 'running')
          throw invalidState(`upgrade '${id}' is ${u.state}`, 'Only a running upgrade can be paused.');
        return 'paused';
      },
      actor,
      'pause',
      opts.reason,
    );
  }

  async resume(id: string, actor: string, opts: { tenantId?: string; reason?: string }) {
    if (opts.tenantId !== undefined) {
      const u = await this.upgradeOrThrow(id);
      if (u.state === 'aborted' || u.state === 'complete')
        throw invalidState(`upgrade '${id}' is ${u.state}`, 'Start a new upgrade instead.');
      return this.setRollout(
        id,
        opts.tenantId,
        (r) => {
          if (r.phase !== 'paused' || !r.resumePhase)
            throw invalidState(
              `the rollout of '${r.tenantId}' is ${r.phase}, not paused`,
              'Only a paused rollout can be resumed.',
            );
          // The soak of the stage starts again, with a fresh guard: the evidence from before the
          // pause describes what paused it.
          const { control, ...rest } = r;
          return {
            ...rest,
            ...(control
              ? { control: { ...control, decision: null, window: '', trigger: null, stoppedAt: null } }
              : {}),
            phase: r.resumePhase,
            resumePhase: null,
            reason: null,
            phaseSince: this.now(),
          };
        },
        actor,
        'resume',
        opts.reason ?? null,
      );
    }
    return this.setState(
      id,
      (u) => {
        if (u.state === 'running') return u.state;
        if (u.state !== 'paused')
          throw invalidState(`upgrade '${id}' is ${u.state}`, 'Only a paused upgrade can be resumed.');
        return 'running';
      },
      actor,
      'resume',
      opts.reason,
    );
  }

  abort(id: string, actor: string, reason?: string) {
    return this.setState(
      id,
      (u) => {
        if (u.state === 'aborted') return u.state;
        if (u.state === 'complete')
          throw invalidState(
            `upgrade '${id}' is complete`,
            'Start an upgrade back to the old version instead.',
          );
        return 'aborted';
      },
      actor,
      'abort',
      reason,
    );
  }

  /**
   * Which party this principal approves for: an approver for the platform, the tenant's own
   * contact for the tenant. A contact of another tenant learns nothing (404); other roles 403.
   */
  partyOf(p: Principal, tenantId: string): ApprovalParty {
    if (p.role === 'tenant_contact') {
      if (p.tenantId !== tenantId) throw notFound('Tenant', tenantId);
      return 'tenant';
    }
    if (p.role === 'approver') return 'platform';
    throw forbidden(
      `role ${p.role} may not approve stages: approvers give the platform approval, tenant contacts the tenant's`,
    );
  }

  private async stageCheck(upgradeId: string, tenantId: string, stage: number, party: ApprovalParty) {
    const r = await this.rolloutOf(upgradeId, tenantId);
    const group = await this.deps.registry.get('rollout_group', r.groupId);
    const s = group?.plan.stages[stage - 1];
    if (!group || !s) {
      throw invalidInput(`stage ${stage} does not exist in the plan of '${r.groupId}'`, [
        { path: '/body/stage', message: `must be 1 to ${group?.plan.stages.length ?? 0}` },
      ]);
    }
    if (!s.approvals.includes(party))
      throw invalidState(
        `stage ${stage} of '${r.groupId}' needs no ${party} approval`,
        `It needs: ${s.approvals.join(', ') || 'none'}.`,
      );
  }

  async approve(
    upgradeId: string,
    tenantId: string,
    stage: number,
    p: Principal,
    reason?: string,
  ): Promise<RolloutView> {
    const party = this.partyOf(p, tenantId);
    await this.stageCheck(upgradeId, tenantId, stage, party);
    const by = personOf(p.actor);
    const r = await this.setRollout(
      upgradeId,
      tenantId,
      (r) => {
        if (isTerminal(r.phase) || r.phase === 'rolling_back')
          throw invalidState(
            `the rollout of '${tenantId}' is ${r.phase}`,
            'Approvals apply to active rollouts.',
          );
        if (r.phase === 'canary' && r.stage >= stage - 1)
          throw invalidState(`stage ${stage} has already started`, 'Approve a later stage.');
        if (r.approvals.some((a) => a.stage === stage - 1 && a.party === party && a.by === by)) return null;
        return {
          ...r,
          approvals: [
            ...r.approvals,
            { stage: stage - 1, party, by, at: new Date(this.now()).toISOString() },
          ],
        };
      },
      p.actor,
      'approve',
      `stage ${stage} (${party})${reason ? `: ${reason}` : ''}`,
    );
    return view(r);
  }

  /** An operator rolls one tenant back (freeze, drain, cut), as the guard would on a regression. */
  async rollback(upgradeId: string, tenantId: string, actor: string, reason: string): Promise<RolloutView> {
    return this.rollBack(upgradeId, tenantId, actor, 'rollback', reason, {
      reason: `rolled back by ${personOf(actor)}: ${reason}`,
      refused: 'Only an active rollout can be rolled back.',
    });
  }

  /** A rejected stage rolls the tenant back (freeze, drain, cut), like a regression would. */
  async reject(
    upgradeId: string,
    tenantId: string,
    stage: number,
    p: Principal,
    reason?: string,
  ): Promise<RolloutView> {
    const party = this.partyOf(p, tenantId);
    await this.stageCheck(upgradeId, tenantId, stage, party);
    const detail = `stage ${stage} (${party})${reason ? `: ${reason}` : ''}`;
    return this.rollBack(upgradeId, tenantId, p.actor, 'reject', detail, {
      reason: `stage ${stage} rejected by ${personOf(p.actor)} (${party})${reason ? `: ${reason}` : ''}`,
      refused: 'Only an active rollout can be rejected.',
    });
  }

  /** Moves an active rollout to the first rollback step, remembering where it stopped. */
  private async rollBack(
    upgradeId: string,
    tenantId: string,
    actor: string,
    action: string,
    detail: string,
    text: { reason: string; refused: string },
  ): Promise<RolloutView> {
    const r = await this.setRollout(
      upgradeId,
      tenantId,
      (r) => {
        if (isTerminal(r.phase) || r.phase === 'rolling_back')
          throw invalidState(`the rollout of '${tenantId}' is ${r.phase}`, text.refused);
        const control = r.control
          ? { ...r.control, stoppedAt: { phase: r.phase, stage: r.stage } }
          : undefined;
        return {
          ...r,
          ...(control ? { control } : {}),
          phase: 'rolling_back',
          rollbackStep: 'freeze',
          resumePhase: null,
          phaseSince: this.now(),
          reason: text.reason,
        };
      },
      actor,
      action,
      detail,
    );
    return view(r);
  }
}
