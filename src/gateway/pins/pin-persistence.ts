/** A pin as stored by a persistence adapter. */
export interface StoredPin {
  tenantId: string;
  sessionKey: string;
  versionId: string;
  createdAtMs: number;
  expiresAtMs: number;
}

export interface StoredCut {
  tenantId: string;
  versionId: string;
  cutAtMs: number;
}

/**
 * Where the embedded pin store keeps pins across restarts. Written behind (batched, off the
 * request path) and read once at start.
 */
export interface PinPersistence {
  /** Live pins (most recently created first, at most `limit`) and cut markers. */
  load(nowMs: number, limit: number): Promise<{ pins: StoredPin[]; cuts: StoredCut[] }>;
  save(pins: readonly StoredPin[]): Promise<void>;
  saveCut(cut: StoredCut): Promise<void>;
  /** Removes expired pins and cut markers older than `cutsBeforeMs`. */
  prune(nowMs: number, cutsBeforeMs: number): Promise<void>;
}
