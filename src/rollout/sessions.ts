import type { SqlDatabase } from '../storage/sql-database.js';

/** Counting the sessions still being served by a version, for the drain step of a rollback (port). */
export interface CandidateSessions {
  active(tenantId: string, versionId: string, nowMs: number): Promise<number>;
}

/** Hard-cutting a version's sessions (the gateway's session pin store satisfies it). */
export interface SessionCutter {
  hardCut(tenantId: string, versionId: string): Promise<void>;
}

/**
 * Sessions in flight on a version: distinct sessions of the tenant with a request served by it in
 * the last `activeWithinMs`, from the telemetry events every gateway writes. A pin outlives its
 * session by its TTL (hours), so pins alone would hold every drain to its timeout; recent traffic
 * is what "still in flight" means. It works the same for the in-memory and the Redis pin stores.
 */
export class TelemetryCandidateSessions implements CandidateSessions {
  constructor(
    private readonly db: SqlDatabase,
    private readonly activeWithinMs = 30_000,
  ) {}

  async active(tenantId: string, versionId: string, nowMs: number): Promise<number> {
    const row = await this.db.get<{ n: number | string }>(
      `SELECT COUNT(DISTINCT session_id) AS n FROM telemetry_events
       WHERE tenant_id = ? AND version_id = ? AND at_ms >= ? AND session_id IS NOT NULL`,
      [tenantId, versionId, nowMs - this.activeWithinMs],
    );
    return Number(row?.n ?? 0);
  }
}
