import type { Migration } from '../storage/migrations.js';

/**
 * Per-request telemetry events. `day` (UTC date) is the retention unit: old days are deleted
 * whole (and become real partitions on PostgreSQL when the rollup work lands).
 */
export const TELEMETRY_MIGRATION: Migration = {
  id: '0004_telemetry_events',
  statements: [
    `CREATE TABLE telemetry_events (
      seq {{seq}}, day TEXT NOT NULL, at_ms {{big}} NOT NULL, request_id TEXT NOT NULL,
      tenant_id TEXT NOT NULL, key_id TEXT NOT NULL, session_id TEXT, channel TEXT, version_id TEXT,
      cohort TEXT, wire TEXT NOT NULL, stream INTEGER NOT NULL, status INTEGER NOT NULL,
      error_type TEXT, fallback TEXT, session_reset INTEGER NOT NULL, tool_names TEXT NOT NULL,
      latency_ms {{real}} NOT NULL, ttfb_ms {{real}}, input_tokens INTEGER, output_tokens INTEGER,
      prompt_hash TEXT, shadowed INTEGER NOT NULL)`,
    'CREATE INDEX telemetry_events_tenant ON telemetry_events (tenant_id, at_ms)',
    'CREATE INDEX telemetry_events_day ON telemetry_events (day)',
  ],
};

/** The schema compatibility layer's outcome per request, and the client's task id. */
export const TELEMETRY_VALIDATION_MIGRATION: Migration = {
  id: '0005_telemetry_validation',
  statements: [
    'ALTER TABLE telemetry_events ADD COLUMN task_id TEXT',
    'ALTER TABLE telemetry_events ADD COLUMN tool_calls_checked INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE telemetry_events ADD COLUMN tool_calls_invalid INTEGER NOT NULL DEFAULT 0',
    "ALTER TABLE telemetry_events ADD COLUMN invalid_kinds TEXT NOT NULL DEFAULT '[]'",
    'ALTER TABLE telemetry_events ADD COLUMN tool_calls_coerced INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE telemetry_events ADD COLUMN format_valid INTEGER',
    'ALTER TABLE telemetry_events ADD COLUMN policy_action TEXT',
  ],
};
