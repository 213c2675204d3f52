import { buildSnapshot, type RoutingSnapshot } from '../../registry/routing-snapshot.js';
import {
  DEFAULT_RISK_PROFILE,
  type ModelVersion,
  type Tenant,
  type TenantChannel,
} from '../../registry/types.js';

const META = { version: 1, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' };

export function version(id: string, channel: string, extra: Partial<ModelVersion> = {}): ModelVersion {
  return {
    ...META,
    id,
    channel,
    providerKind: 'openai-compatible',
    upstreamModel: id,
    endpoint: 'http://127.0.0.1:9/v1',
    credentialsRef: 'none',
    lifecycle: 'active',
    warmUntil: null,
    ...extra,
  };
}

export function tenant(id: string, extra: Partial<Tenant> = {}): Tenant {
  return {
    ...META,
    id,
    name: id,
    rolloutGroup: 'standard',
    frozen: false,
    failurePolicy: 'fallback',
    actionPolicy: 'rollback',
    riskProfile: DEFAULT_RISK_PROFILE,
    contacts: [],
    ...extra,
  };
}

export function binding(
  tenantId: string,
  channel: string,
  stableVersionId: string,
  extra: Partial<TenantChannel> = {},
): TenantChannel {
  return {
    ...META,
    id: `${tenantId}:${channel}`,
    tenantId,
    channel,
    stableVersionId,
    candidateVersionId: null,
    canaryPercent: 0,
    shadowPercent: 0,
    upgradeId: null,
    pinned: false,
    ...extra,
  };
}

/** A routing snapshot straight from records, for tests that need no database. */
export function snapshotOf(
  models: ModelVersion[],
  tenants: Tenant[],
  channels: TenantChannel[],
  version = 1,
): RoutingSnapshot {
  return buildSnapshot({ version, tenants, apiKeys: [], models, channels, contracts: [], groups: [] }, 0);
}
