import { BETS_MIGRATIONS } from '../bets/bets-migrations.js';
import { DRIFT_MIGRATION } from '../gateway/drift/drift-migration.js';
import { GATEWAY_MIGRATION } from '../gateway/migration.js';
import { CLASSIFICATION_MIGRATION } from '../rollout/classification/classification-migration.js';
import { ROLLOUT_CONTROLLER_MIGRATION } from '../rollout/controller-migration.js';
import { ROLLOUT_MIGRATION } from '../rollout/rollout-migration.js';
import { TELEMETRY_MIGRATION, TELEMETRY_VALIDATION_MIGRATION } from '../telemetry/migration.js';
import {
  TELEMETRY_EVENTS_PARTITIONED_MIGRATION,
  TELEMETRY_ROLLUPS_MIGRATION,
  TELEMETRY_ROLLUPS_TENANT_INDEX_MIGRATION,
} from '../telemetry/rollups/rollup-migration.js';
import type { Migration } from './migrations.js';

/**
 * The whole schema's history. Append only: a released migration is never edited.
 * Every registry table has `id`, `version` (optimistic concurrency), `created_at`, `updated_at`.
 * Timestamps are ISO-8601 UTC text: sortable, and identical in both dialects.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    id: '0001_registry',
    statements: [
      `CREATE TABLE registry_state (id INTEGER PRIMARY KEY, version {{big}} NOT NULL)`,
      `INSERT INTO registry_state (id, version) VALUES (1, 0)`,
      `CREATE TABLE rollout_groups (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, rank INTEGER NOT NULL, plan TEXT NOT NULL,
        version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
      `CREATE TABLE tenants (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, rollout_group TEXT NOT NULL REFERENCES rollout_groups(id),
        frozen INTEGER NOT NULL, failure_policy TEXT NOT NULL, action_policy TEXT NOT NULL,
        risk_profile TEXT NOT NULL, contacts TEXT NOT NULL,
        version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
      `CREATE TABLE api_keys (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), label TEXT NOT NULL,
        prefix TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE, expires_at TEXT, revoked_at TEXT,
        version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
      `CREATE INDEX api_keys_tenant ON api_keys (tenant_id)`,
      `CREATE TABLE model_versions (
        id TEXT PRIMARY KEY, channel TEXT NOT NULL, provider_kind TEXT NOT NULL,
        upstream_model TEXT NOT NULL, endpoint TEXT NOT NULL, credentials_ref TEXT NOT NULL,
        lifecycle TEXT NOT NULL, warm_until TEXT,
        version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
      `CREATE INDEX model_versions_channel ON model_versions (channel)`,
      `CREATE TABLE tenant_channels (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), channel TEXT NOT NULL,
        stable_version_id TEXT NOT NULL REFERENCES model_versions(id),
        candidate_version_id TEXT REFERENCES model_versions(id),
        canary_percent {{real}} NOT NULL, shadow_percent {{real}} NOT NULL, upgrade_id TEXT,
        pinned INTEGER NOT NULL,
        version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        UNIQUE (tenant_id, channel))`,
      `CREATE TABLE contracts (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        model_version_id TEXT NOT NULL REFERENCES model_versions(id), name TEXT NOT NULL,
        definition TEXT NOT NULL,
        version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        UNIQUE (tenant_id, model_version_id, name))`,
      `CREATE TABLE admin_tokens (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, tenant_id TEXT REFERENCES tenants(id),
        prefix TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, revoked_at TEXT,
        version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
      `CREATE TABLE audit_log (
        seq {{seq}}, id TEXT NOT NULL UNIQUE, at TEXT NOT NULL, actor TEXT NOT NULL,
        action TEXT NOT NULL, op TEXT NOT NULL, entity_kind TEXT NOT NULL, entity_id TEXT NOT NULL,
        tenant_id TEXT, before_json TEXT, after_json TEXT, reason TEXT, reverts_id TEXT,
        request_id TEXT)`,
      `CREATE INDEX audit_log_tenant ON audit_log (tenant_id, seq)`,
      `CREATE INDEX audit_log_entity ON audit_log (entity_kind, entity_id, seq)`,
    ],
  },
  ROLLOUT_MIGRATION,
  GATEWAY_MIGRATION,
  TELEMETRY_MIGRATION,
  ...BETS_MIGRATIONS,
  TELEMETRY_VALIDATION_MIGRATION,
  CLASSIFICATION_MIGRATION,
  TELEMETRY_ROLLUPS_MIGRATION,
  TELEMETRY_EVENTS_PARTITIONED_MIGRATION,
  DRIFT_MIGRATION,
  ROLLOUT_CONTROLLER_MIGRATION,
  TELEMETRY_ROLLUPS_TENANT_INDEX_MIGRATION,
];
