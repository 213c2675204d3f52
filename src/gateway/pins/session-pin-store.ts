import type { ComponentHealth } from '../health.js';

/** The model version a session is pinned to. */
export interface Pin {
  readonly versionId: string;
  readonly createdAtMs: number;
  /**
   * A hard cut of this version happened after the pin was made: the session must be moved
   * (to stable) and the client told, with `x-switchyard-session-reset: true`.
   */
  readonly cut: boolean;
}

/**
 * Session pins: (tenant, session) -> the version the session started on. The first writer wins,
 * so concurrent first requests of a session (on one or many gateways) agree. A pin lives for its
 * TTL, extended while the session is active.
 *
 * `peek` answers from this process's memory without waiting, which is what keeps the request
 * path free of I/O for every request but a session's first; `getOrSet` may ask shared storage.
 */
export interface SessionPinStore {
  peek(tenantId: string, sessionKey: string): Pin | undefined;
  getOrSet(tenantId: string, sessionKey: string, versionId: string, ttlMs: number): Promise<Pin>;
  /** Overwrites a pin (a cut session moved to stable, or its version was retired). Fire and forget. */
  replace(tenantId: string, sessionKey: string, versionId: string, ttlMs: number): void;
  /** Marks every existing session of the tenant on `versionId` as cut (the rollback's last step). */
  hardCut(tenantId: string, versionId: string): Promise<void>;
  health(): ComponentHealth;
  stats(): PinStoreStats;
  close(): Promise<void>;
}

export interface PinStoreStats {
  /** Pins held in this process's memory. */
  cached: number;
  hits: number;
  misses: number;
  /** Pins this process could not write to its backing store (dropped after retrying). */
  writeFailures: number;
}
