import { UniqueViolation } from '../../../storage/sql-database.js';
import type {
  RollupFlush,
  RollupReadQuery,
  RollupRow,
  RollupStore,
  RollupWriterState,
} from '../rollup-types.js';

/** An in-memory rollup store for unit tests, with the SQL store's semantics, and a kill switch. */
export class MemoryRollupStore implements RollupStore {
  readonly rows: RollupRow[] = [];
  private readonly flushes = new Set<string>();
  private readonly heartbeats = new Map<string, RollupWriterState>();
  /** When set, append and read throw it. */
  failWith: Error | null = null;
  /** When true, append stores the flush and then throws (a lost acknowledgement). */
  failAfterCommit = false;
  appends = 0;

  async append(f: RollupFlush): Promise<void> {
    this.appends++;
    if (this.failWith) throw this.failWith;
    const id = `${f.writerId}/${f.flushId}`;
    if (f.rows.length > 0 && this.flushes.has(id)) throw new UniqueViolation(new Error(id));
    if (f.rows.length > 0) this.flushes.add(id);
    this.rows.push(...f.rows.map((r) => structuredClone(r)));
    const prev = this.heartbeats.get(f.writerId);
    this.heartbeats.set(f.writerId, {
      writerId: f.writerId,
      lastFlushMs: Math.max(prev?.lastFlushMs ?? 0, f.atMs),
      closedThroughMs: Math.max(prev?.closedThroughMs ?? 0, f.closedThroughMs),
    });
    if (this.failAfterCommit) {
      this.failAfterCommit = false;
      throw new Error('connection lost after commit');
    }
  }

  async read(q: RollupReadQuery): Promise<RollupRow[]> {
    if (this.failWith) throw this.failWith;
    return this.rows.filter(
      (r) =>
        r.minuteMs >= q.fromMs &&
        r.minuteMs < q.toMs &&
        (q.tenantId === undefined || r.tenantId === q.tenantId) &&
        (q.channel === undefined || r.channel === q.channel) &&
        (q.versionIds === undefined || q.versionIds.includes(r.versionId)) &&
        (q.cohort === undefined || r.cohort === q.cohort),
    );
  }

  async writers(): Promise<RollupWriterState[]> {
    if (this.failWith) throw this.failWith;
    return [...this.heartbeats.values()];
  }
}
