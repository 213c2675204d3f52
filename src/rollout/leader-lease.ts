import type { Clock } from '../shared/clock.js';
import type { SqlDatabase } from '../storage/sql-database.js';

/**
 * One controller leads at a time. The lease is a row taken with a guarded write: the holder may
 * renew it, anyone may take it once it has expired. `fencing` grows with every change of holder,
 * so work can be tagged with the term it was done under. The same SQL works on SQLite (embedded:
 * one process, it is always ours) and PostgreSQL (several controller processes).
 */
export class LeaderLease {
  private fencing = 0;
  private heldUntil = 0;

  constructor(
    private readonly db: SqlDatabase,
    private readonly clock: Clock,
    readonly name: string,
    readonly holder: string,
    private readonly ttlMs: number,
  ) {}

  /** Takes or renews the lease; true while this process leads. */
  async acquire(): Promise<boolean> {
    const now = this.clock.now();
    const expires = now + this.ttlMs;
    await this.db.run(
      'INSERT INTO controller_leases (name, holder, expires_at_ms, fencing) VALUES (?, ?, ?, 1) ON CONFLICT (name) DO NOTHING',
      [this.name, this.holder, expires],
    );
    const renewed = await this.db.run(
      `UPDATE controller_leases
         SET fencing = CASE WHEN holder = ? THEN fencing ELSE fencing + 1 END, holder = ?, expires_at_ms = ?
       WHERE name = ? AND (holder = ? OR expires_at_ms < ?)`,
      [this.holder, this.holder, expires, this.name, this.holder, now],
    );
    if (renewed.changes !== 1) {
      this.heldUntil = 0;
      return false;
    }
    const row = await this.db.get<{ fencing: number }>(
      'SELECT fencing FROM controller_leases WHERE name = ?',
      [this.name],
    );
    this.fencing = Number(row?.fencing ?? 0);
    this.heldUntil = expires;
    return true;
  }

  /**
   * Whether this process may act now. A margin before expiry leaves room for the work in hand
   * to finish before another process can take over.
   */
  isLeader(marginMs = this.ttlMs / 3): boolean {
    return this.clock.now() < this.heldUntil - marginMs;
  }

  term(): number {
    return this.fencing;
  }

  /** Gives the lease up at once (clean shutdown), so a successor need not wait for expiry. */
  async release(): Promise<void> {
    await this.db.run('UPDATE controller_leases SET expires_at_ms = 0 WHERE name = ? AND holder = ?', [
      this.name,
      this.holder,
    ]);
    this.heldUntil = 0;
  }
}
