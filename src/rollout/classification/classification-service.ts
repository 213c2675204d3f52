import type { ChangeContext, RegistryService } from '../../registry/registry-service.js';
import type { RegistryStore } from '../../registry/registry-store.js';
import type { Contract, Tenant, TenantChannel } from '../../registry/types.js';
import type { Clock } from '../../shared/clock.js';
import { isSwitchyardError, notFound, SwitchyardError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import type { RolloutStore } from '../rollout-store.js';
import type { TenantRollout } from '../rollout-types.js';
import type {
  ClassificationOutcome,
  ClassificationRecord,
  ClassificationTrigger,
  SqlClassificationStore,
} from './classification-store.js';
import {
  deriveOutputFormatRigidity,
  deriveToolCallComplexity,
  type FormatRigidityDerivation,
  type ToolComplexityDerivation,
} from './derive.js';
import {
  type ClassificationPolicy,
  checkPolicy,
  DEFAULT_CLASSIFICATION_POLICY,
  type Level,
  maxLevel,
} from './policy.js';
import { isActiveRollout, type RegressionEvent, regressionsIn } from './regressions.js';
import { type Classification, type ScoredProfile, scoreProfile, summarize } from './score.js';

const DAY_MS = 24 * 3600 * 1000;

/** How a derivable factor was decided: what was declared, what the contracts say, what was used. */
export interface DerivedFactor<D> {
  declared: Level;
  derived: D;
  used: Level;
}

/** A tenant's classification with its explanation, before anything is applied. */
export interface Evaluation extends Classification {
  tenantId: string;
  fromGroupId: string;
  /** The values that were scored (declared, derived and observed combined). */
  profile: ScoredProfile;
  derivation: {
    toolCallComplexity: DerivedFactor<ToolComplexityDerivation>;
    outputFormatRigidity: DerivedFactor<FormatRigidityDerivation>;
  };
  regressions: {
    /** `rollouts`: counted from the rollout store; `profile`: the stored value (no rollout store). */
    source: 'rollouts' | 'profile';
    windowDays: number;
    declared: number;
    count: number;
    events: RegressionEvent[];
  };
  /** Why the tenant may not be moved now, or null. */
  held: string | null;
  /** What applying would change on the tenant record. */
  decision: ClassificationOutcome;
}

export interface ClassificationResult extends Evaluation {
  applied: boolean;
  /** The stored classification record (apply mode only). */
  recordId: string | null;
  /** The audit reason written with the tenant update, or what it would be. */
  reason: string;
}

export interface FleetRunResult {
  apply: boolean;
  at: string;
  evaluated: number;
  moves: ClassificationResult[];
  /** Tenants whose observed regression history changed without a move. */
  updated: ClassificationResult[];
  held: ClassificationResult[];
  unchanged: string[];
  failed: Array<{ tenantId: string; code: string; message: string }>;
}

export interface ClassificationServiceOptions {
  registry: RegistryService;
  store: RegistryStore;
  records: SqlClassificationStore;
  clock: Clock;
  /** Source of regression history and of active rollouts (which hold a tenant in its group). */
  rollouts?: RolloutStore | undefined;
  policy?: ClassificationPolicy;
  /** How far back rolled-back and blocked rollouts count as regressions; 365 days by default. */
  regressionWindowDays?: number;
}

interface TenantMaterial {
  contracts: Contract[];
  channels: TenantChannel[];
  rollouts: TenantRollout[] | undefined;
}

/**
 * Classifies tenants into rollout groups from their risk profiles (see docs/design/rollouts.md,
 * "Group classification"). Dry runs only read. Applying writes through RegistryService, so a
 * move is one audited tenant update guarded by the version that was evaluated (a concurrent
 * change gives version_conflict rather than overwriting it), with the classification record id
 * and each factor's contribution in the audit reason; the record itself is stored after.
 */
export class ClassificationService {
  readonly policy: ClassificationPolicy;
  readonly regressionWindowDays: number;

  constructor(private readonly opts: ClassificationServiceOptions) {
    this.policy = opts.policy ?? DEFAULT_CLASSIFICATION_POLICY;
    checkPolicy(this.policy);
    this.regressionWindowDays = opts.regressionWindowDays ?? 365;
    if (!(this.regressionWindowDays > 0)) throw new Error('regressionWindowDays must be positive');
  }

  /** Evaluates one tenant without changing anything. */
  async evaluate(tenantId: string): Promise<Evaluation> {
    const tenant = await this.opts.store.get('tenant', tenantId);
    if (!tenant) throw notFound('Tenant', tenantId);
    return this.evaluateTenant(tenant, await this.materialFor(tenantId));
  }

  /** Classifies one tenant; with `apply`, moves it (unless held) and records the classification. */
  async classifyTenant(
    ctx: ChangeContext,
    tenantId: string,
    opts: { apply: boolean; trigger?: ClassificationTrigger },
  ): Promise<ClassificationResult> {
    const tenant = await this.opts.store.get('tenant', tenantId);
    if (!tenant) throw notFound('Tenant', tenantId);
    const evaluation = this.evaluateTenant(tenant, await this.materialFor(tenantId));
    return opts.apply
      ? this.apply(ctx, tenant, evaluation, opts.trigger ?? 'manual')
      : this.proposal(ctx, evaluation);
  }

  /**
   * Re-evaluates every tenant. A tenant that fails (a concurrent change, a group the policy names
   * but the registry lacks) is listed under `failed` and the run goes on.
   */
  async runFleet(
    ctx: ChangeContext,
    opts: { apply: boolean; trigger?: ClassificationTrigger },
  ): Promise<FleetRunResult> {
    const { store, rollouts } = this.opts;
    const [tenants, contracts, channels, allRollouts] = await Promise.all([
      store.list('tenant'),
      store.list('contract'),
      store.list('tenant_channel'),
      rollouts ? rollouts.listRollouts({}) : Promise.resolve(undefined),
    ]);
    const byTenant = <T extends { tenantId: string }>(items: readonly T[], id: string) =>
      items.filter((i) => i.tenantId === id);
    const result: FleetRunResult = {
      apply: opts.apply,
      at: new Date(this.opts.clock.now()).toISOString(),
      evaluated: 0,
      moves: [],
      updated: [],
      held: [],
      unchanged: [],
      failed: [],
    };
    for (const tenant of tenants) {
      result.evaluated++;
      try {
        const evaluation = this.evaluateTenant(tenant, {
          contracts: byTenant(contracts, tenant.id),
          channels: byTenant(channels, tenant.id),
          rollouts: allRollouts ? byTenant(allRollouts, tenant.id) : undefined,
        });
        const r = opts.apply
          ? await this.apply(ctx, tenant, evaluation, opts.trigger ?? 'fleet')
          : this.proposal(ctx, evaluation);
        if (r.decision === 'moved') result.moves.push(r);
        else if (r.decision === 'updated') result.updated.push(r);
        else if (r.decision === 'held') result.held.push(r);
        else result.unchanged.push(r.tenantId);
      } catch (e) {
        if (!isSwitchyardError(e)) throw e;
        result.failed.push({ tenantId: tenant.id, code: e.code, message: e.message });
      }
    }
    return result;
  }

  /**
   * A tenant's own declaration of its sensitivity (audited like any tenant change), with the
   * classification it leads to. The group is not changed here: an operator applies it, or the
   * next scheduled re-evaluation does.
   */
  async declareSensitivity(
    ctx: ChangeContext,
    tenantId: string,
    level: Level,
    ifVersion?: number,
  ): Promise<{ tenant: Tenant; classification: Evaluation }> {
    const tenant = await this.opts.registry.updateTenant(
      ctx,
      tenantId,
      { riskProfile: { declaredSensitivity: level } },
      ifVersion,
    );
    return { tenant, classification: this.evaluateTenant(tenant, await this.materialFor(tenantId)) };
  }

  listRecords(tenantId: string, limit = 50): Promise<ClassificationRecord[]> {
    return this.opts.records.listRecords(tenantId, limit);
  }

  // ---- internals --------------------------------------------------------------------------

  private async materialFor(tenantId: string): Promise<TenantMaterial> {
    const { store, rollouts } = this.opts;
    const [contracts, channels, tenantRollouts] = await Promise.all([
      store.list('contract', { tenantId }),
      store.list('tenant_channel', { tenantId }),
      rollouts ? rollouts.listRollouts({ tenantId }) : Promise.resolve(undefined),
    ]);
    return { contracts, channels, rollouts: tenantRollouts };
  }

  /**
   * The contracts that describe the tenant today: those registered against a version it is bound
   * to (stable or candidate). A tenant with no bindings is judged on all its contracts.
   */
  private currentContracts(m: TenantMaterial): Contract[] {
    const versions = new Set<string>();
    for (const ch of m.channels) {
      versions.add(ch.stableVersionId);
      if (ch.candidateVersionId) versions.add(ch.candidateVersionId);
    }
    return versions.size === 0 ? m.contracts : m.contracts.filter((c) => versions.has(c.modelVersionId));
  }

  private evaluateTenant(tenant: Tenant, m: TenantMaterial): Evaluation {
    const now = this.opts.clock.now();
    const risk = tenant.riskProfile;
    const contracts = this.currentContracts(m);
    const tools = deriveToolCallComplexity(contracts, this.policy.toolComplexity);
    const formats = deriveOutputFormatRigidity(contracts);
    const events = m.rollouts ? regressionsIn(m.rollouts, now, this.regressionWindowDays * DAY_MS) : [];
    const regressionCount = m.rollouts ? events.length : risk.regressionHistory;

    // Declared levels are floors: contracts can show a tenant is riskier than declared, never
    // safer. To let the contracts decide alone, declare `low`.
    const profile: ScoredProfile = {
      criticality: risk.criticality,
      toolCallComplexity: maxLevel(risk.toolCallComplexity, tools.level),
      outputFormatRigidity: maxLevel(risk.outputFormatRigidity, formats.level),
      declaredSensitivity: risk.declaredSensitivity,
      regressionHistory: regressionCount,
    };
    const provenance = (declared: Level, derived: Level, why: string) =>
      `declared ${declared}, derived ${derived} (${why}); the higher counts`;
    const classification = scoreProfile(profile, this.policy, {
      toolCallComplexity: provenance(risk.toolCallComplexity, tools.level, tools.why),
      outputFormatRigidity: provenance(risk.outputFormatRigidity, formats.level, formats.why),
      regressionHistory: m.rollouts
        ? `rolled-back or blocked rollouts in the last ${this.regressionWindowDays} days`
        : 'as recorded on the tenant (no rollout history available)',
    });

    const active = (m.rollouts ?? []).filter(isActiveRollout);
    const held = tenant.frozen
      ? 'the tenant is frozen'
      : active.length > 0
        ? `the tenant is in an active rollout: ${active.map((r) => `${r.upgradeId} (${r.phase})`).join(', ')}`
        : null;
    const moves = classification.groupId !== tenant.rolloutGroup;
    const historyChanges = regressionCount !== risk.regressionHistory;
    const decision: ClassificationOutcome =
      (moves || historyChanges) && held ? 'held' : moves ? 'moved' : historyChanges ? 'updated' : 'unchanged';

    return {
      ...classification,
      tenantId: tenant.id,
      fromGroupId: tenant.rolloutGroup,
      profile,
      derivation: {
        toolCallComplexity: {
          declared: risk.toolCallComplexity,
          derived: tools,
          used: profile.toolCallComplexity,
        },
        outputFormatRigidity: {
          declared: risk.outputFormatRigidity,
          derived: formats,
          used: profile.outputFormatRigidity,
        },
      },
      regressions: {
        source: m.rollouts ? 'rollouts' : 'profile',
        windowDays: this.regressionWindowDays,
        declared: risk.regressionHistory,
        count: regressionCount,
        events,
      },
      held,
      decision,
    };
  }

  private reasonFor(ctx: ChangeContext, e: Evaluation, recordId: string | null): string {
    const parts: string[] = [];
    if (ctx.reason) parts.push(ctx.reason);
    const head = recordId ? `classification ${recordId}` : 'classification';
    if (e.groupId !== e.fromGroupId) parts.push(`${head}: ${e.fromGroupId} -> ${summarize(e)}`);
    else parts.push(`${head}: stays ${summarize(e)}`);
    if (e.regressions.count !== e.regressions.declared) {
      parts.push(
        `regression history ${e.regressions.declared} -> ${e.regressions.count} ` +
          `(rolled back or blocked in the last ${e.regressions.windowDays} days)`,
      );
    }
    if (e.held) parts.push(`held: ${e.held}`);
    return parts.join('; ');
  }

  private proposal(ctx: ChangeContext, e: Evaluation): ClassificationResult {
    return { ...e, applied: false, recordId: null, reason: this.reasonFor(ctx, e, null) };
  }

  private async apply(
    ctx: ChangeContext,
    tenant: Tenant,
    e: Evaluation,
    trigger: ClassificationTrigger,
  ): Promise<ClassificationResult> {
    const recordId = newId('cls');
    const reason = this.reasonFor(ctx, e, recordId);
    let applied = false;
    if (e.decision === 'moved' || e.decision === 'updated') {
      if (!(await this.opts.store.get('rollout_group', e.groupId))) {
        throw new SwitchyardError(
          400,
          'invalid_reference',
          `the classification policy names rollout group '${e.groupId}', which does not exist`,
          { hint: 'Create the group, or change the classification policy to name existing groups.' },
        );
      }
      await this.opts.registry.updateTenant(
        { ...ctx, reason },
        tenant.id,
        {
          ...(e.decision === 'moved' ? { rolloutGroup: e.groupId } : {}),
          ...(e.regressions.count !== e.regressions.declared
            ? { riskProfile: { regressionHistory: e.regressions.count } }
            : {}),
        },
        tenant.version,
      );
      applied = true;
    }
    const { tenantId, fromGroupId, groupId, score, factors, decision, ...explanation } = e;
    await this.opts.records.insertRecord({
      id: recordId,
      tenantId,
      at: new Date(this.opts.clock.now()).toISOString(),
      actor: ctx.actor,
      trigger,
      outcome: decision,
      fromGroupId,
      groupId,
      score,
      factors,
      detail: {
        bandGroupId: explanation.bandGroupId,
        floor: explanation.floor,
        profile: explanation.profile,
        derivation: explanation.derivation,
        regressions: explanation.regressions,
        held: explanation.held,
        reason,
      },
    });
    return { ...e, applied, recordId, reason };
  }
}
