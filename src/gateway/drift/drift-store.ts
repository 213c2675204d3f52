import { type DriftProfile, mergeDriftProfiles, parseDriftProfile } from '../../contracts/drift-profile.js';
import type { SqlDatabase } from '../../storage/sql-database.js';

/** A tenant's drift profile for one channel's stable -> candidate pair. */
export interface StoredDriftProfile {
  channel: string;
  profile: DriftProfile;
  updatedAtMs: number;
}

/** Where drift profiles are kept (port); `SqlDriftProfileStore` is the SQL adapter. */
export interface DriftProfileStore {
  /** Adds counts to the stored profiles (creating them); several processes may add at once. */
  merge(deltas: readonly { channel: string; profile: DriftProfile }[], atMs: number): Promise<void>;
  /** The tenant's stored profiles (every channel and version pair). */
  list(tenantId: string): Promise<StoredDriftProfile[]>;
}

interface Row {
  channel: string;
  profile: string;
  revision: number | string;
  updated_at_ms: number | string;
}

/** Bound on optimistic retries of one row; only as many writers as gateways can collide. */
const MAX_TRIES = 20;
const KEY = 'tenant_id = ? AND channel = ? AND stable_version_id = ? AND candidate_version_id = ?';

export class SqlDriftProfileStore implements DriftProfileStore {
  constructor(private readonly db: SqlDatabase) {}

  async merge(deltas: readonly { channel: string; profile: DriftProfile }[], atMs: number): Promise<void> {
    for (const d of deltas) await this.mergeOne(d.channel, d.profile, atMs);
  }

  /**
   * Read, merge, write guarded by `revision`: a concurrent writer makes the UPDATE (or the
   * INSERT) change nothing, and the merge is redone on what that writer stored. No counts are
   * lost and none are added twice.
   */
  private async mergeOne(channel: string, delta: DriftProfile, atMs: number): Promise<void> {
    const key = [delta.tenantId, channel, delta.stableVersionId, delta.candidateVersionId];
    for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
      const row = await this.db.get<Row>(
        `SELECT channel, profile, revision, updated_at_ms FROM drift_profiles WHERE ${KEY}`,
        key,
      );
      if (!row) {
        const { changes } = await this.db.run(
          `INSERT INTO drift_profiles (tenant_id, channel, stable_version_id, candidate_version_id, profile, revision, updated_at_ms)
           VALUES (?, ?, ?, ?, ?, 1, ?) ON CONFLICT DO NOTHING`,
          [...key, JSON.stringify(delta), atMs],
        );
        if (changes === 1) return;
        continue;
      }
      const merged = mergeDriftProfiles(parseDriftProfile(JSON.parse(row.profile)), delta);
      const { changes } = await this.db.run(
        `UPDATE drift_profiles SET profile = ?, revision = revision + 1, updated_at_ms = ? WHERE ${KEY} AND revision = ?`,
        [JSON.stringify(merged), atMs, ...key, Number(row.revision)],
      );
      if (changes === 1) return;
    }
    throw new Error(`drift profile of ${delta.tenantId}/${channel} kept changing under ${MAX_TRIES} merges`);
  }

  async list(tenantId: string): Promise<StoredDriftProfile[]> {
    const rows = await this.db.all<Row>(
      'SELECT channel, profile, revision, updated_at_ms FROM drift_profiles WHERE tenant_id = ? ORDER BY channel, stable_version_id, candidate_version_id',
      [tenantId],
    );
    return rows.map((r) => ({
      channel: r.channel,
      profile: parseDriftProfile(JSON.parse(r.profile)),
      updatedAtMs: Number(r.updated_at_ms),
    }));
  }
}
