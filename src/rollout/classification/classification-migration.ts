import type { Migration } from '../../storage/migrations.js';

/**
 * Group classification: one row per classification that was applied (with every factor's
 * contribution, so "why is this tenant conservative?" has an answer), and the schedule of the
 * fleet-wide re-evaluation (one row per schedule name, taken with a guarded write so only one
 * process runs a due re-evaluation).
 */
export const CLASSIFICATION_MIGRATION: Migration = {
  id: '0009_classification',
  statements: [
    `CREATE TABLE tenant_classifications (
      id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL,
      trigger_kind TEXT NOT NULL, outcome TEXT NOT NULL, from_group TEXT NOT NULL,
      group_id TEXT NOT NULL, score {{real}} NOT NULL, detail TEXT NOT NULL)`,
    'CREATE INDEX tenant_classifications_tenant ON tenant_classifications (tenant_id, at)',
    `CREATE TABLE classification_schedule (
      name TEXT PRIMARY KEY, started_at_ms {{big}} NOT NULL, finished_at_ms {{big}},
      holder TEXT NOT NULL, runs {{big}} NOT NULL, last_result TEXT)`,
  ],
};
