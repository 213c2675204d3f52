import type { Migration } from '../storage/migrations.js';

/**
 * BETS tables, to be appended to the one migration list (src/storage/schema.ts). No foreign keys
 * to registry tables: deleting a tenant or model version is the registry's business, and BETS
 * history (runs, verdicts) must outlive what it judged.
 *
 * Cases are versioned by validity range: a row holds one revision of a case for suite versions
 * [from_version, to_version). A change closes the old row and opens a new one, so every past
 * suite version can still be read exactly (a run records the version it ran).
 */
export const BETS_MIGRATIONS: readonly Migration[] = [
  {
    id: 'bets_0001_suites_runs_captures',
    statements: [
      `CREATE TABLE bets_suites (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, workflow TEXT NOT NULL, channel TEXT NOT NULL,
        name TEXT NOT NULL, config TEXT NOT NULL, version INTEGER NOT NULL, case_count INTEGER NOT NULL,
        deleted_at TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        UNIQUE (tenant_id, workflow))`,
      `CREATE TABLE bets_suite_versions (
        suite_id TEXT NOT NULL, version INTEGER NOT NULL, config TEXT NOT NULL, change_note TEXT NOT NULL,
        actor TEXT NOT NULL, case_count INTEGER NOT NULL, created_at TEXT NOT NULL,
        PRIMARY KEY (suite_id, version))`,
      `CREATE TABLE bets_cases (
        suite_id TEXT NOT NULL, case_id TEXT NOT NULL, from_version INTEGER NOT NULL, to_version INTEGER,
        body TEXT NOT NULL, source TEXT NOT NULL, golden_at TEXT NOT NULL,
        PRIMARY KEY (suite_id, case_id, from_version))`,
      `CREATE INDEX bets_cases_open ON bets_cases (suite_id, to_version)`,
      `CREATE TABLE bets_runs (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, suite_id TEXT NOT NULL, workflow TEXT NOT NULL,
        suite_version INTEGER NOT NULL, channel TEXT NOT NULL, candidate_version_id TEXT NOT NULL,
        stable_version_id TEXT NOT NULL, judge_version_id TEXT, upgrade_id TEXT, fleet_run_id TEXT,
        status TEXT NOT NULL, options TEXT NOT NULL, case_count INTEGER NOT NULL, runner TEXT,
        heartbeat_at TEXT, error TEXT, summary TEXT, created_by TEXT NOT NULL, created_at TEXT NOT NULL,
        finished_at TEXT)`,
      `CREATE INDEX bets_runs_tenant ON bets_runs (tenant_id, created_at)`,
      `CREATE INDEX bets_runs_status ON bets_runs (status)`,
      `CREATE INDEX bets_runs_fleet ON bets_runs (fleet_run_id)`,
      `CREATE TABLE bets_results (
        run_id TEXT NOT NULL, case_id TEXT NOT NULL, target TEXT NOT NULL, attempt INTEGER NOT NULL,
        status TEXT NOT NULL, kinds TEXT NOT NULL, detail TEXT NOT NULL, input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL, cost {{real}}, latency_ms INTEGER NOT NULL,
        provider_calls INTEGER NOT NULL, created_at TEXT NOT NULL,
        PRIMARY KEY (run_id, case_id, target, attempt))`,
      `CREATE TABLE bets_verdicts (
        tenant_id TEXT NOT NULL, channel TEXT NOT NULL, candidate_version_id TEXT NOT NULL,
        upgrade_id TEXT NOT NULL, outcome TEXT NOT NULL, body TEXT NOT NULL, decided_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, channel, candidate_version_id, upgrade_id))`,
      `CREATE TABLE bets_alerts (
        seq {{seq}}, id TEXT NOT NULL UNIQUE, at TEXT NOT NULL, tenant_id TEXT, kind TEXT NOT NULL,
        severity TEXT NOT NULL, subject TEXT NOT NULL, detail TEXT NOT NULL)`,
      `CREATE TABLE bets_fleet_runs (
        id TEXT PRIMARY KEY, upgrade_id TEXT, channel TEXT NOT NULL, candidate_version_id TEXT NOT NULL,
        status TEXT NOT NULL, tenants TEXT NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL,
        finished_at TEXT)`,
      `CREATE TABLE bets_capture_settings (
        tenant_id TEXT PRIMARY KEY, enabled INTEGER NOT NULL, sample_rate {{real}} NOT NULL,
        workflow TEXT NOT NULL, updated_by TEXT NOT NULL, updated_at TEXT NOT NULL)`,
      `CREATE TABLE bets_captures (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, workflow TEXT NOT NULL, captured_at TEXT NOT NULL,
        input TEXT NOT NULL, response TEXT NOT NULL, input_hash TEXT NOT NULL, status TEXT NOT NULL,
        proposal TEXT, note TEXT, reviewed_by TEXT, reviewed_at TEXT, case_id TEXT, updated_at TEXT NOT NULL)`,
      `CREATE INDEX bets_captures_tenant ON bets_captures (tenant_id, status, captured_at)`,
    ],
  },
];
