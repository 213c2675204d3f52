import type { Migration } from '../storage/migrations.js';

/**
 * The rollout controller's tables: its status per rollout (`control`, JSON: guard state and
 * decisions), the history of each rollout (who approved, paused, what the controller did), the
 * incident reports, and the notification outbox (one row per notification and webhook endpoint,
 * drained by the webhook worker, so a slow or dead endpoint never blocks the controller).
 */
export const ROLLOUT_CONTROLLER_MIGRATION: Migration = {
  id: '0012_rollout_controller',
  statements: [
    'ALTER TABLE tenant_rollouts ADD COLUMN control TEXT',
    `CREATE TABLE rollout_events (
      seq {{seq}}, upgrade_id TEXT NOT NULL, rollout_id TEXT, tenant_id TEXT, at_ms {{big}} NOT NULL,
      actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT)`,
    'CREATE INDEX rollout_events_upgrade ON rollout_events (upgrade_id, seq)',
    `CREATE TABLE incidents (
      id TEXT PRIMARY KEY, upgrade_id TEXT NOT NULL, rollout_id TEXT NOT NULL, tenant_id TEXT NOT NULL,
      channel TEXT NOT NULL, kind TEXT NOT NULL, reason TEXT NOT NULL, created_at_ms {{big}} NOT NULL,
      report TEXT NOT NULL)`,
    'CREATE INDEX incidents_tenant ON incidents (tenant_id, created_at_ms)',
    'CREATE INDEX incidents_created ON incidents (created_at_ms)',
    `CREATE TABLE notification_deliveries (
      id TEXT PRIMARY KEY, notification_id TEXT NOT NULL, endpoint_id TEXT NOT NULL, event TEXT NOT NULL,
      notification TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
      next_attempt_ms {{big}} NOT NULL, last_error TEXT, created_at_ms {{big}} NOT NULL,
      delivered_at_ms {{big}})`,
    'CREATE INDEX notification_deliveries_due ON notification_deliveries (state, next_attempt_ms)',
  ],
};
