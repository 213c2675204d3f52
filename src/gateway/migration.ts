import type { Migration } from '../storage/migrations.js';

/**
 * The gateway's tables: session pins persisted behind the embedded pin store (and the hard-cut
 * markers), agents' task feedback, and shadow-mode result pairs. Times are epoch milliseconds
 * (`*_ms`); `day` (UTC date) is the retention unit of the append-only tables.
 */
export const GATEWAY_MIGRATION: Migration = {
  id: '0003_gateway',
  statements: [
    `CREATE TABLE session_pins (
      tenant_id TEXT NOT NULL, session_key TEXT NOT NULL, version_id TEXT NOT NULL,
      created_at_ms {{big}} NOT NULL, expires_at_ms {{big}} NOT NULL,
      PRIMARY KEY (tenant_id, session_key))`,
    'CREATE INDEX session_pins_expiry ON session_pins (expires_at_ms)',
    `CREATE TABLE session_pin_cuts (
      tenant_id TEXT NOT NULL, version_id TEXT NOT NULL, cut_at_ms {{big}} NOT NULL,
      PRIMARY KEY (tenant_id, version_id))`,
    `CREATE TABLE gateway_feedback (
      id TEXT PRIMARY KEY, day TEXT NOT NULL, at_ms {{big}} NOT NULL, tenant_id TEXT NOT NULL,
      key_id TEXT NOT NULL, session_id TEXT NOT NULL, task_id TEXT, channel TEXT, version_id TEXT,
      cohort TEXT, outcome TEXT, downstream_errors INTEGER NOT NULL, error_kind TEXT, detail TEXT,
      request_id TEXT)`,
    'CREATE INDEX gateway_feedback_tenant ON gateway_feedback (tenant_id, at_ms)',
    `CREATE TABLE shadow_results (
      id TEXT PRIMARY KEY, day TEXT NOT NULL, at_ms {{big}} NOT NULL, tenant_id TEXT NOT NULL,
      session_id TEXT NOT NULL, channel TEXT NOT NULL, request_id TEXT NOT NULL, prompt_hash TEXT,
      wire TEXT NOT NULL,
      stable_version_id TEXT NOT NULL, stable_status INTEGER, stable_error TEXT, stable_text TEXT,
      stable_tool_calls TEXT NOT NULL, stable_latency_ms {{real}},
      candidate_version_id TEXT NOT NULL, candidate_status INTEGER, candidate_error TEXT,
      candidate_text TEXT, candidate_tool_calls TEXT NOT NULL, candidate_latency_ms {{real}})`,
    'CREATE INDEX shadow_results_tenant ON shadow_results (tenant_id, at_ms)',
  ],
};
