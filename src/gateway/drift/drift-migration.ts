import type { Migration } from '../../storage/migrations.js';

/**
 * Drift profiles of candidates, one row per tenant, channel and stable -> candidate pair. The
 * profile is the JSON of a DriftProfile (counts only, merged by addition); `revision` guards the
 * read-merge-write of several gateway processes adding their counts to one row.
 */
export const DRIFT_MIGRATION: Migration = {
  id: '0006_drift_profiles',
  statements: [
    `CREATE TABLE drift_profiles (
      tenant_id TEXT NOT NULL, channel TEXT NOT NULL, stable_version_id TEXT NOT NULL,
      candidate_version_id TEXT NOT NULL, profile TEXT NOT NULL, revision INTEGER NOT NULL,
      updated_at_ms {{big}} NOT NULL,
      PRIMARY KEY (tenant_id, channel, stable_version_id, candidate_version_id))`,
  ],
};
