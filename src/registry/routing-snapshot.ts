import { deepFreeze } from '../shared/json.js';
import type { RegistryDump } from './registry-store.js';
import type { Contract, FailurePolicy, ModelVersion, Tenant, TenantChannel } from './types.js';

/**
 * What the request path needs to route, held in memory and replaced whole on every registry
 * change (never mutated): the gateway reads it without touching the database.
 */
export interface ChannelRoute {
  readonly binding: TenantChannel;
  readonly stable: ModelVersion;
  readonly candidate: ModelVersion | null;
  /** Contracts registered for the stable and the candidate version, by contract name. */
  readonly stableContracts: ReadonlyMap<string, Contract>;
  readonly candidateContracts: ReadonlyMap<string, Contract>;
}

export interface TenantRoute {
  readonly tenant: Tenant;
  readonly failurePolicy: FailurePolicy;
  readonly frozen: boolean;
  readonly channels: ReadonlyMap<string, ChannelRoute>;
}

export interface KeyRoute {
  readonly tenantId: string;
  readonly keyId: string;
  /** Epoch ms after which the key no longer authenticates (rotation grace), or null. */
  readonly expiresAtMs: number | null;
}

export interface RoutingSnapshot {
  readonly version: number;
  readonly builtAt: number;
  readonly keysByHash: ReadonlyMap<string, KeyRoute>;
  readonly tenants: ReadonlyMap<string, TenantRoute>;
  readonly models: ReadonlyMap<string, ModelVersion>;
}

export const EMPTY_SNAPSHOT: RoutingSnapshot = deepFreeze({
  version: -1,
  builtAt: 0,
  keysByHash: new Map(),
  tenants: new Map(),
  models: new Map(),
});

/** Builds an immutable snapshot from a consistent dump of the registry. Pure. */
export function buildSnapshot(dump: RegistryDump, builtAt: number): RoutingSnapshot {
  const models = new Map(dump.models.map((m) => [m.id, m]));
  const contractsBy = new Map<string, Map<string, Contract>>();
  for (const c of dump.contracts) {
    const key = `${c.tenantId}\u0000${c.modelVersionId}`;
    const m = contractsBy.get(key) ?? new Map<string, Contract>();
    contractsBy.set(key, m);
    m.set(c.name, c);
  }
  const contractsOf = (tenantId: string, versionId: string | null) =>
    (versionId && contractsBy.get(`${tenantId}\u0000${versionId}`)) || new Map<string, Contract>();

  const channelsByTenant = new Map<string, Map<string, ChannelRoute>>();
  for (const b of dump.channels) {
    const stable = models.get(b.stableVersionId);
    if (!stable) continue; // unreachable: the store enforces the reference
    const m = channelsByTenant.get(b.tenantId) ?? new Map<string, ChannelRoute>();
    channelsByTenant.set(b.tenantId, m);
    m.set(b.channel, {
      binding: b,
      stable,
      candidate: b.candidateVersionId ? (models.get(b.candidateVersionId) ?? null) : null,
      stableContracts: contractsOf(b.tenantId, b.stableVersionId),
      candidateContracts: contractsOf(b.tenantId, b.candidateVersionId),
    });
  }

  const tenants = new Map<string, TenantRoute>();
  for (const t of dump.tenants) {
    tenants.set(t.id, {
      tenant: t,
      failurePolicy: t.failurePolicy,
      frozen: t.frozen,
      channels: channelsByTenant.get(t.id) ?? new Map(),
    });
  }

  const keysByHash = new Map<string, KeyRoute>();
  for (const k of dump.apiKeys) {
    if (k.revokedAt) continue;
    keysByHash.set(k.keyHash, {
      tenantId: k.tenantId,
      keyId: k.id,
      expiresAtMs: k.expiresAt ? Date.parse(k.expiresAt) : null,
    });
  }

  return deepFreeze({ version: dump.version, builtAt, keysByHash, tenants, models });
}
