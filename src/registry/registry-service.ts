import { assertContractCompiles } from '../contracts/contract-validation.js';
import type { Clock } from '../shared/clock.js';
import { alreadyExists, invalidInput, notFound, SwitchyardError, versionConflict } from '../shared/errors.js';
import { hashSecret, newId, newSecret } from '../shared/ids.js';
import { UniqueViolation } from '../storage/sql-database.js';
import type { ChangeBus } from './change-bus.js';
import { DEFAULT_GROUPS } from './default-groups.js';
import { tenantOf } from './entity-tables.js';
import type {
  AdminTokenCreate,
  ApiKeyCreate,
  ApiKeyRotate,
  ChannelBind,
  ChannelPatch,
  ContractCreate,
  ContractPatch,
  GroupCreate,
  GroupPatch,
  ModelCreate,
  ModelPatch,
  TenantCreate,
  TenantPatch,
} from './inputs.js';
import { checkReferences } from './references.js';
import type { RegistryStore, RegistryWriter } from './registry-store.js';
import {
  type AdminToken,
  type AnyEntity,
  type ApiKey,
  type AuditEntry,
  type AuditOp,
  type Contract,
  DEFAULT_RISK_PROFILE,
  type EntityKind,
  type EntityTypes,
  type ModelVersion,
  type RolloutGroup,
  type Tenant,
  type TenantChannel,
} from './types.js';

/** Who is changing the registry, and why; every write is audited with it. */
export interface ChangeContext {
  actor: string;
  requestId?: string;
  reason?: string | undefined;
}

const LABELS: Record<EntityKind, string> = {
  tenant: 'Tenant',
  api_key: 'API key',
  model_version: 'Model version',
  tenant_channel: 'Channel binding',
  contract: 'Contract',
  rollout_group: 'Rollout group',
  admin_token: 'Admin token',
};

/** Strips undefined so `{...current, ...patch}` never erases a field the client did not send. */
function defined<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function withoutReason<T extends { reason?: string | undefined }>(input: T): Omit<T, 'reason'> {
  const { reason: _reason, ...rest } = input;
  return rest;
}

/**
 * Layer 1: every change to the registry goes through here. Each write is one transaction that
 * checks the record's version (optimistic concurrency: the loser gets version_conflict), checks
 * references, writes, appends an audit entry with before and after, and advances the registry
 * version; after commit the new version is published so every process refreshes its routing
 * snapshot. Any audited change can be reverted by its id; the revert is audited too.
 */
export class RegistryService {
  constructor(
    private readonly store: RegistryStore,
    private readonly bus: ChangeBus,
    private readonly clock: Clock,
  ) {}

  private nowIso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  // ---- the generic write path -------------------------------------------------------------

  private async commit<T>(
    ctx: ChangeContext,
    action: string,
    work: (
      w: RegistryWriter,
      audit: (
        op: AuditOp,
        kind: EntityKind,
        before: AnyEntity | null,
        after: AnyEntity | null,
      ) => Promise<AuditEntry>,
    ) => Promise<T>,
    revertsId: string | null = null,
  ): Promise<T> {
    let version = 0;
    let result: T;
    try {
      result = await this.store.write(async (w) => {
        const audit = (op: AuditOp, kind: EntityKind, before: AnyEntity | null, after: AnyEntity | null) => {
          const subject = (after ?? before) as AnyEntity;
          return w.appendAudit({
            id: newId('chg'),
            at: this.nowIso(),
            actor: ctx.actor,
            action,
            op,
            entityKind: kind,
            entityId: subject.id,
            tenantId: tenantOf(kind, subject),
            before,
            after,
            reason: ctx.reason ?? null,
            revertsId,
            requestId: ctx.requestId ?? null,
          });
        };
        const out = await work(w, audit);
        version = await w.bumpVersion();
        return out;
      });
    } catch (e) {
      if (e instanceof UniqueViolation) {
        throw new SwitchyardError(409, 'already_exists', 'a record with the same id or key already exists', {
          hint: 'Use a different id, or update the existing record instead.',
        });
      }
      throw e;
    }
    // Publishing is best effort: a lost message is caught by every process's periodic check.
    await this.bus.publish(version).catch(() => {});
    return result;
  }

  private async create<K extends EntityKind>(
    ctx: ChangeContext,
    kind: K,
    action: string,
    entity: EntityTypes[K],
  ) {
    return this.commit(ctx, action, async (w, audit) => {
      if (await w.get(kind, entity.id)) throw alreadyExists(LABELS[kind], entity.id);
      await checkReferences(w, kind, entity);
      await w.insert(kind, entity);
      await audit('create', kind, null, entity);
      return entity;
    });
  }

  private async update<K extends EntityKind>(
    ctx: ChangeContext,
    kind: K,
    action: string,
    id: string,
    ifVersion: number | undefined,
    change: (current: EntityTypes[K]) => EntityTypes[K],
    scope?: { tenantId: string },
  ): Promise<EntityTypes[K]> {
    return this.commit(ctx, action, async (w, audit) => {
      const current = await this.load(w, kind, id, scope, ifVersion);
      const next = { ...change(current), id, version: current.version + 1, updatedAt: this.nowIso() };
      await checkReferences(w, kind, next);
      if (!(await w.update(kind, next, current.version)))
        throw versionConflict(LABELS[kind], id, current.version, undefined);
      await audit('update', kind, current, next);
      return next;
    });
  }

  private async remove<K extends EntityKind>(
    ctx: ChangeContext,
    kind: K,
    action: string,
    id: string,
    ifVersion: number | undefined,
    scope?: { tenantId: string },
  ): Promise<EntityTypes[K]> {
    return this.commit(ctx, action, async (w, audit) => {
      const current = await this.load(w, kind, id, scope, ifVersion);
      await this.assertNoDependents(w, kind, id);
      if (!(await w.delete(kind, id, current.version)))
        throw versionConflict(LABELS[kind], id, current.version, undefined);
      await audit('delete', kind, current, null);
      return current;
    });
  }

  private async load<K extends EntityKind>(
    w: RegistryWriter,
    kind: K,
    id: string,
    scope?: { tenantId: string },
    ifVersion?: number,
  ): Promise<EntityTypes[K]> {
    const current = await w.get(kind, id);
    // A record of another tenant is reported exactly like a missing one.
    if (!current || (scope && tenantOf(kind, current) !== scope.tenantId)) throw notFound(LABELS[kind], id);
    // The client's If-Match: the change was based on this version, or it is refused.
    if (ifVersion !== undefined && current.version !== ifVersion) {
      throw versionConflict(LABELS[kind], id, ifVersion, current.version);
    }
    return current;
  }

  private async assertNoDependents(w: RegistryWriter, kind: EntityKind, id: string): Promise<void> {
    const deps = await w.dependents(kind, id);
    if (deps.length > 0) {
      throw new SwitchyardError(409, 'has_dependents', `${LABELS[kind]} '${id}' is still referenced`, {
        details: deps.slice(0, 20).map((d) => ({ path: d, message: 'references it' })),
        hint: 'Remove or re-point the records listed in details first.',
      });
    }
  }

  private base(id: string) {
    const now = this.nowIso();
    return { id, version: 1, createdAt: now, updatedAt: now };
  }

  // ---- tenants --------------------------------------------------------------------------

  createTenant(ctx: ChangeContext, input: TenantCreate): Promise<Tenant> {
    return this.create(ctx, 'tenant', 'tenant.create', {
      ...this.base(input.id),
      name: input.name,
      rolloutGroup: input.rolloutGroup ?? 'standard',
      frozen: input.frozen ?? false,
      failurePolicy: input.failurePolicy ?? 'fallback',
      actionPolicy: input.actionPolicy ?? 'rollback',
      riskProfile: { ...DEFAULT_RISK_PROFILE, ...defined(input.riskProfile ?? {}) },
      contacts: input.contacts ?? [],
    });
  }

  updateTenant(ctx: ChangeContext, id: string, patch: TenantPatch, ifVersion?: number): Promise<Tenant> {
    const { riskProfile, ...rest } = withoutReason(patch);
    const action =
      patch.frozen === true ? 'tenant.freeze' : patch.frozen === false ? 'tenant.unfreeze' : 'tenant.update';
    return this.update(ctx, 'tenant', action, id, ifVersion, (cur) => ({
      ...cur,
      ...defined(rest),
      riskProfile: { ...cur.riskProfile, ...defined(riskProfile ?? {}) },
    }));
  }

  deleteTenant(ctx: ChangeContext, id: string, ifVersion?: number): Promise<Tenant> {
    return this.remove(ctx, 'tenant', 'tenant.delete', id, ifVersion);
  }

  // ---- API keys (only hashes are stored; the secret is returned once) -----------------------

  async createApiKey(
    ctx: ChangeContext,
    tenantId: string,
    input: ApiKeyCreate,
  ): Promise<{ key: ApiKey; secret: string }> {
    const secret = newSecret('sy-');
    const key: ApiKey = {
      ...this.base(newId('key')),
      tenantId,
      label: input.label ?? '',
      prefix: secret.slice(0, 10),
      keyHash: hashSecret(secret),
      expiresAt: input.expiresAt ? new Date(input.expiresAt).toISOString() : null,
      revokedAt: null,
    };
    await this.create(ctx, 'api_key', 'api_key.create', key);
    return { key, secret };
  }

  revokeApiKey(ctx: ChangeContext, tenantId: string, keyId: string): Promise<ApiKey> {
    return this.update(
      ctx,
      'api_key',
      'api_key.revoke',
      keyId,
      undefined,
      (cur) => {
        if (cur.revokedAt)
          throw new SwitchyardError(409, 'already_revoked', `API key '${keyId}' is already revoked`);
        return { ...cur, revokedAt: this.nowIso() };
      },
      { tenantId },
    );
  }

  /** Issues a new key and lets the old one live for a grace period (0: revoked at once). */
  async rotateApiKey(
    ctx: ChangeContext,
    tenantId: string,
    keyId: string,
    input: ApiKeyRotate,
  ): Promise<{ key: ApiKey; secret: string; previous: ApiKey }> {
    const grace = input.graceSeconds ?? 0;
    const previous = await this.update(
      ctx,
      'api_key',
      'api_key.rotate',
      keyId,
      undefined,
      (cur) => {
        if (cur.revokedAt) throw new SwitchyardError(409, 'already_revoked', `API key '${keyId}' is revoked`);
        const until = new Date(this.clock.now() + grace * 1000).toISOString();
        return grace === 0 ? { ...cur, revokedAt: this.nowIso() } : { ...cur, expiresAt: until };
      },
      { tenantId },
    );
    const created = await this.createApiKey(ctx, tenantId, { label: previous.label });
    return { ...created, previous };
  }

  // ---- model versions -------------------------------------------------------------------

  createModel(ctx: ChangeContext, input: ModelCreate): Promise<ModelVersion> {
    return this.create(ctx, 'model_version', 'model_version.create', {
      ...this.base(input.id),
      channel: input.channel,
      providerKind: input.providerKind,
      upstreamModel: input.upstreamModel,
      endpoint: input.endpoint,
      credentialsRef: input.credentialsRef ?? 'none',
      lifecycle: input.lifecycle ?? 'candidate',
      warmUntil: input.warmUntil ?? null,
    });
  }

  updateModel(ctx: ChangeContext, id: string, patch: ModelPatch, ifVersion?: number): Promise<ModelVersion> {
    return this.update(ctx, 'model_version', 'model_version.update', id, ifVersion, (cur) => ({
      ...cur,
      ...defined(withoutReason(patch)),
    }));
  }

  deleteModel(ctx: ChangeContext, id: string, ifVersion?: number): Promise<ModelVersion> {
    return this.remove(ctx, 'model_version', 'model_version.delete', id, ifVersion);
  }

  // ---- channel bindings -----------------------------------------------------------------

  bindChannel(ctx: ChangeContext, tenantId: string, input: ChannelBind): Promise<TenantChannel> {
    return this.create(ctx, 'tenant_channel', 'tenant_channel.bind', {
      ...this.base(`${tenantId}:${input.channel}`),
      tenantId,
      channel: input.channel,
      stableVersionId: input.stableVersionId,
      candidateVersionId: input.candidateVersionId ?? null,
      canaryPercent: input.canaryPercent ?? 0,
      shadowPercent: input.shadowPercent ?? 0,
      upgradeId: input.upgradeId ?? null,
      pinned: input.pinned ?? false,
    });
  }

  updateChannel(
    ctx: ChangeContext,
    tenantId: string,
    channel: string,
    patch: ChannelPatch,
    ifVersion?: number,
  ): Promise<TenantChannel> {
    return this.update(
      ctx,
      'tenant_channel',
      'tenant_channel.update',
      `${tenantId}:${channel}`,
      ifVersion,
      (cur) => ({ ...cur, ...defined(withoutReason(patch)) }),
      { tenantId },
    );
  }

  unbindChannel(ctx: ChangeContext, tenantId: string, channel: string, ifVersion?: number) {
    return this.remove(ctx, 'tenant_channel', 'tenant_channel.unbind', `${tenantId}:${channel}`, ifVersion, {
      tenantId,
    });
  }

  // ---- contracts (compiled at registration; an invalid schema is never stored) -------------

  async registerContract(ctx: ChangeContext, tenantId: string, input: ContractCreate): Promise<Contract> {
    assertContractCompiles(input.definition, '/body/definition');
    return this.create(ctx, 'contract', 'contract.register', {
      ...this.base(`${tenantId}:${input.modelVersionId}:${input.name}`),
      tenantId,
      modelVersionId: input.modelVersionId,
      name: input.name,
      definition: input.definition,
    });
  }

  async updateContract(
    ctx: ChangeContext,
    tenantId: string,
    id: string,
    patch: ContractPatch,
    ifVersion?: number,
  ): Promise<Contract> {
    assertContractCompiles(patch.definition, '/body/definition');
    return this.update(
      ctx,
      'contract',
      'contract.update',
      id,
      ifVersion,
      (cur) => ({ ...cur, definition: patch.definition }),
      { tenantId },
    );
  }

  deleteContract(ctx: ChangeContext, tenantId: string, id: string, ifVersion?: number): Promise<Contract> {
    return this.remove(ctx, 'contract', 'contract.delete', id, ifVersion, { tenantId });
  }

  // ---- rollout groups -------------------------------------------------------------------

  createGroup(ctx: ChangeContext, input: GroupCreate): Promise<RolloutGroup> {
    return this.create(ctx, 'rollout_group', 'rollout_group.create', {
      ...this.base(input.id),
      ...withoutReason(input),
    });
  }

  updateGroup(ctx: ChangeContext, id: string, patch: GroupPatch, ifVersion?: number): Promise<RolloutGroup> {
    return this.update(ctx, 'rollout_group', 'rollout_group.update', id, ifVersion, (cur) => ({
      ...cur,
      ...defined(withoutReason(patch)),
    }));
  }

  /** Seeds the four default groups into a registry that has none (idempotent). */
  async seedDefaultGroups(ctx: ChangeContext): Promise<number> {
    let created = 0;
    for (const g of DEFAULT_GROUPS) {
      if (await this.store.get('rollout_group', g.id)) continue;
      try {
        await this.createGroup(ctx, g);
        created++;
      } catch (e) {
        // Another process seeded it first.
        if (!(e instanceof SwitchyardError && e.code === 'already_exists')) throw e;
      }
    }
    return created;
  }

  // ---- admin tokens ---------------------------------------------------------------------

  createAdminToken(
    ctx: ChangeContext,
    input: AdminTokenCreate,
  ): Promise<{ token: AdminToken; secret: string }> {
    return this.importAdminToken(ctx, input, newSecret('sya-'));
  }

  /** Registers a token whose secret the caller chose (the bootstrap token from the environment). */
  async importAdminToken(
    ctx: ChangeContext,
    input: AdminTokenCreate,
    secret: string,
  ): Promise<{ token: AdminToken; secret: string }> {
    if ((input.role === 'tenant_contact') !== (input.tenantId !== undefined)) {
      throw invalidInput('tenantId is required for role tenant_contact and allowed for no other role', [
        { path: '/body/tenantId', message: `role is ${input.role}` },
      ]);
    }
    const token: AdminToken = {
      ...this.base(newId('tok')),
      name: input.name,
      role: input.role,
      tenantId: input.tenantId ?? null,
      prefix: secret.slice(0, 11),
      tokenHash: hashSecret(secret),
      revokedAt: null,
    };
    await this.create(ctx, 'admin_token', 'admin_token.create', token);
    return { token, secret };
  }

  revokeAdminToken(ctx: ChangeContext, id: string): Promise<AdminToken> {
    return this.update(ctx, 'admin_token', 'admin_token.revoke', id, undefined, (cur) => {
      if (cur.revokedAt)
        throw new SwitchyardError(409, 'already_revoked', `Admin token '${id}' is already revoked`);
      return { ...cur, revokedAt: this.nowIso() };
    });
  }

  // ---- revert ---------------------------------------------------------------------------

  /**
   * Undoes one audited change: a create is deleted, an update restores `before`, a delete is
   * re-created. Only when the record is still exactly as that change left it; otherwise the
   * later changes are listed so they can be reverted first (newest first), and nothing is written.
   */
  async revert(ctx: ChangeContext, auditId: string, scope?: { tenantId: string }): Promise<AuditEntry> {
    const entry = await this.store.getAudit(auditId);
    if (!entry || (scope && entry.tenantId !== scope.tenantId)) throw notFound('Change', auditId);
    const kind = entry.entityKind;
    const label = LABELS[kind];
    return this.commit(
      { ...ctx, reason: ctx.reason ?? `revert ${entry.id}` },
      'revert',
      async (w, audit) => {
        const current = await w.get(kind, entry.entityId);
        const stale = async () => {
          const later = await w.auditAfter(kind, entry.entityId, entry.seq);
          return new SwitchyardError(
            409,
            'revert_conflict',
            `${label} '${entry.entityId}' changed after ${entry.id}`,
            {
              details: later.map((l) => ({ path: l.id, message: `${l.action} by ${l.actor} at ${l.at}` })),
              hint: 'Revert the later changes listed in details first, newest first.',
            },
          );
        };
        if (entry.op === 'delete') {
          if (current) throw await stale();
          const before = entry.before as AnyEntity;
          const restored = { ...before, version: before.version + 1, updatedAt: this.nowIso() };
          await checkReferences(w, kind, restored);
          await w.insert(kind, restored as EntityTypes[typeof kind]);
          return audit('create', kind, null, restored);
        }
        const after = entry.after as AnyEntity;
        if (!current || current.version !== after.version) throw await stale();
        if (entry.op === 'create') {
          await this.assertNoDependents(w, kind, current.id);
          if (!(await w.delete(kind, current.id, current.version))) throw await stale();
          return audit('delete', kind, current, null);
        }
        const restored = {
          ...(entry.before as AnyEntity),
          version: current.version + 1,
          updatedAt: this.nowIso(),
        } as EntityTypes[typeof kind];
        await checkReferences(w, kind, restored);
        if (!(await w.update(kind, restored, current.version))) throw await stale();
        return audit('update', kind, current, restored);
      },
      entry.id,
    );
  }
}
