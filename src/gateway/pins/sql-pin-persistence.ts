import type { SqlDatabase, SqlParam } from '../../storage/sql-database.js';
import type { PinPersistence, StoredCut, StoredPin } from './pin-persistence.js';

/** Rows per INSERT: 5 parameters each stays far below both dialects' parameter limits. */
const CHUNK = 200;

/** Pin persistence over the SQL port (tables from the gateway migration); SQLite or PostgreSQL. */
export class SqlPinPersistence implements PinPersistence {
  constructor(private readonly db: SqlDatabase) {}

  async load(nowMs: number, limit: number): Promise<{ pins: StoredPin[]; cuts: StoredCut[] }> {
    const pins = await this.db.all<{
      tenant_id: string;
      session_key: string;
      version_id: string;
      created_at_ms: number | string;
      expires_at_ms: number | string;
    }>(
      `SELECT tenant_id, session_key, version_id, created_at_ms, expires_at_ms FROM session_pins
       WHERE expires_at_ms > ? ORDER BY expires_at_ms DESC LIMIT ?`,
      [nowMs, limit],
    );
    const cuts = await this.db.all<{ tenant_id: string; version_id: string; cut_at_ms: number | string }>(
      'SELECT tenant_id, version_id, cut_at_ms FROM session_pin_cuts',
    );
    return {
      // Oldest first, so inserting them in order leaves the most recent as most recently used.
      pins: pins.reverse().map((r) => ({
        tenantId: r.tenant_id,
        sessionKey: r.session_key,
        versionId: r.version_id,
        createdAtMs: Number(r.created_at_ms),
        expiresAtMs: Number(r.expires_at_ms),
      })),
      cuts: cuts.map((r) => ({
        tenantId: r.tenant_id,
        versionId: r.version_id,
        cutAtMs: Number(r.cut_at_ms),
      })),
    };
  }

  async save(pins: readonly StoredPin[]): Promise<void> {
    if (pins.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (let i = 0; i < pins.length; i += CHUNK) {
        const part = pins.slice(i, i + CHUNK);
        const params: SqlParam[] = [];
        for (const p of part)
          params.push(p.tenantId, p.sessionKey, p.versionId, p.createdAtMs, p.expiresAtMs);
        await tx.run(
          `INSERT INTO session_pins (tenant_id, session_key, version_id, created_at_ms, expires_at_ms)
           VALUES ${part.map(() => '(?, ?, ?, ?, ?)').join(', ')}
           ON CONFLICT (tenant_id, session_key) DO UPDATE SET version_id = excluded.version_id,
             created_at_ms = excluded.created_at_ms, expires_at_ms = excluded.expires_at_ms`,
          params,
        );
      }
    });
  }

  async saveCut(cut: StoredCut): Promise<void> {
    await this.db.run(
      `INSERT INTO session_pin_cuts (tenant_id, version_id, cut_at_ms) VALUES (?, ?, ?)
       ON CONFLICT (tenant_id, version_id) DO UPDATE SET cut_at_ms = excluded.cut_at_ms`,
      [cut.tenantId, cut.versionId, cut.cutAtMs],
    );
  }

  async prune(nowMs: number, cutsBeforeMs: number): Promise<void> {
    await this.db.run('DELETE FROM session_pins WHERE expires_at_ms <= ?', [nowMs]);
    await this.db.run('DELETE FROM session_pin_cuts WHERE cut_at_ms < ?', [cutsBeforeMs]);
  }
}
