import type { Migration } from '../storage/migrations.js';

/**
 * Upgrades, per-tenant rollouts (with their status `version` for guarded writes) and the
 * controller's leader lease. Rollout bodies that only the controller reads (approvals, applied
 * steps) are JSON text; what the fleet view filters on (upgrade, tenant, phase) are columns.
 */
export const ROLLOUT_MIGRATION: Migration = {
  id: '0002_rollout',
  statements: [
    `CREATE TABLE upgrades (
      id TEXT PRIMARY KEY, channel TEXT NOT NULL, from_version_id TEXT NOT NULL,
      to_version_id TEXT NOT NULL, state TEXT NOT NULL, created_by TEXT NOT NULL, reason TEXT,
      version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
    `CREATE TABLE tenant_rollouts (
      id TEXT PRIMARY KEY, upgrade_id TEXT NOT NULL REFERENCES upgrades(id), tenant_id TEXT NOT NULL,
      channel TEXT NOT NULL, group_id TEXT NOT NULL, phase TEXT NOT NULL, resume_phase TEXT,
      stage INTEGER NOT NULL, phase_since_ms {{big}} NOT NULL, started_at_ms {{big}} NOT NULL,
      rollback_step TEXT, reason TEXT, approvals TEXT NOT NULL, applied_steps TEXT NOT NULL,
      version INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
      UNIQUE (upgrade_id, tenant_id))`,
    'CREATE INDEX tenant_rollouts_tenant ON tenant_rollouts (tenant_id)',
    'CREATE INDEX tenant_rollouts_phase ON tenant_rollouts (phase)',
    `CREATE TABLE controller_leases (
      name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at_ms {{big}} NOT NULL,
      fencing {{big}} NOT NULL)`,
  ],
};
