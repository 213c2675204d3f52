import type { SqlParam } from '../storage/sql-database.js';
import type { EntityKind, EntityTypes } from './types.js';

/**
 * How each registry record maps onto its table: one column spec per field. Generic code (the
 * store's insert/update/delete and audit revert) works from these specs, so adding a field is
 * one line here plus a migration.
 */
type ColumnType = 'text' | 'int' | 'real' | 'bool' | 'json';
interface Column {
  column: string;
  field: string;
  type: ColumnType;
}
export interface EntityTable {
  table: string;
  columns: readonly Column[];
  /** The field naming the owning tenant, for tenant scoping and audit. */
  tenantField: string | null;
}

const c = (column: string, field: string, type: ColumnType = 'text'): Column => ({ column, field, type });
const META = [c('version', 'version', 'int'), c('created_at', 'createdAt'), c('updated_at', 'updatedAt')];

export const ENTITY_TABLES: Record<EntityKind, EntityTable> = {
  tenant: {
    table: 'tenants',
    tenantField: 'id',
    columns: [
      c('id', 'id'),
      c('name', 'name'),
      c('rollout_group', 'rolloutGroup'),
      c('frozen', 'frozen', 'bool'),
      c('failure_policy', 'failurePolicy'),
      c('action_policy', 'actionPolicy'),
      c('risk_profile', 'riskProfile', 'json'),
      c('contacts', 'contacts', 'json'),
      ...META,
    ],
  },
  api_key: {
    table: 'api_keys',
    tenantField: 'tenantId',
    columns: [
      c('id', 'id'),
      c('tenant_id', 'tenantId'),
      c('label', 'label'),
      c('prefix', 'prefix'),
      c('key_hash', 'keyHash'),
      c('expires_at', 'expiresAt'),
      c('revoked_at', 'revokedAt'),
      ...META,
    ],
  },
  model_version: {
    table: 'model_versions',
    tenantField: null,
    columns: [
      c('id', 'id'),
      c('channel', 'channel'),
      c('provider_kind', 'providerKind'),
      c('upstream_model', 'upstreamModel'),
      c('endpoint', 'endpoint'),
      c('credentials_ref', 'credentialsRef'),
      c('lifecycle', 'lifecycle'),
      c('warm_until', 'warmUntil'),
      ...META,
    ],
  },
  tenant_channel: {
    table: 'tenant_channels',
    tenantField: 'tenantId',
    columns: [
      c('id', 'id'),
      c('tenant_id', 'tenantId'),
      c('channel', 'channel'),
      c('stable_version_id', 'stableVersionId'),
      c('candidate_version_id', 'candidateVersionId'),
      c('canary_percent', 'canaryPercent', 'real'),
      c('shadow_percent', 'shadowPercent', 'real'),
      c('upgrade_id', 'upgradeId'),
      c('pinned', 'pinned', 'bool'),
      ...META,
    ],
  },
  contract: {
    table: 'contracts',
    tenantField: 'tenantId',
    columns: [
      c('id', 'id'),
      c('tenant_id', 'tenantId'),
      c('model_version_id', 'modelVersionId'),
      c('name', 'name'),
      c('definition', 'definition', 'json'),
      ...META,
    ],
  },
  rollout_group: {
    table: 'rollout_groups',
    tenantField: null,
    columns: [c('id', 'id'), c('name', 'name'), c('rank', 'rank', 'int'), c('plan', 'plan', 'json'), ...META],
  },
  admin_token: {
    table: 'admin_tokens',
    tenantField: 'tenantId',
    columns: [
      c('id', 'id'),
      c('name', 'name'),
      c('role', 'role'),
      c('tenant_id', 'tenantId'),
      c('prefix', 'prefix'),
      c('token_hash', 'tokenHash'),
      c('revoked_at', 'revokedAt'),
      ...META,
    ],
  },
};

type Row = Record<string, unknown>;

export function toRow(kind: EntityKind, entity: object): SqlParam[] {
  const record = entity as Record<string, unknown>;
  return ENTITY_TABLES[kind].columns.map(({ field, type }) => {
    const v = record[field];
    if (v === undefined || v === null) return null;
    switch (type) {
      case 'bool':
        return v ? 1 : 0;
      case 'json':
        return JSON.stringify(v);
      case 'int':
      case 'real':
        return Number(v);
      default:
        return String(v);
    }
  });
}

export function fromRow<K extends EntityKind>(kind: K, row: Row): EntityTypes[K] {
  const out: Record<string, unknown> = {};
  for (const { column, field, type } of ENTITY_TABLES[kind].columns) {
    const v = row[column];
    if (v === null || v === undefined) {
      out[field] = null;
      continue;
    }
    switch (type) {
      case 'bool':
        out[field] = v === 1 || v === true;
        break;
      case 'json':
        out[field] = JSON.parse(String(v));
        break;
      case 'int':
      case 'real':
        out[field] = Number(v);
        break;
      default:
        out[field] = String(v);
    }
  }
  return out as EntityTypes[K];
}

export function tenantOf(kind: EntityKind, entity: object): string | null {
  const field = ENTITY_TABLES[kind].tenantField;
  if (!field) return null;
  const v = (entity as Record<string, unknown>)[field];
  return typeof v === 'string' ? v : null;
}
