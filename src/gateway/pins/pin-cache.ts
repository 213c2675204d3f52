import type { Clock } from '../../shared/clock.js';
import type { Pin } from './session-pin-store.js';

export interface PinEntry {
  versionId: string;
  createdAtMs: number;
  expiresAtMs: number;
  ttlMs: number;
}

export const cacheKey = (tenantId: string, sessionKey: string) => `${tenantId}\u0000${sessionKey}`;
const cutKey = (tenantId: string, versionId: string) => `${tenantId}|${versionId}`;

/**
 * The in-process pin memory both pin stores share: an LRU map with per-entry expiry (a Map
 * iterates in insertion order, so re-inserting on access keeps the least recently used first),
 * plus the hard-cut markers. A cut is a marker (tenant, version, time) rather than a rewrite of
 * every pin, so cutting a version with a million sessions is O(1); a pin made before the marker
 * is cut when next read.
 */
export class PinCache {
  private readonly pins = new Map<string, PinEntry>();
  private readonly cuts = new Map<string, number>();

  constructor(
    private readonly capacity: number,
    private readonly clock: Clock,
  ) {}

  get size(): number {
    return this.pins.size;
  }

  get(key: string): PinEntry | undefined {
    const e = this.pins.get(key);
    if (!e) return undefined;
    if (e.expiresAtMs <= this.clock.now()) {
      this.pins.delete(key);
      return undefined;
    }
    this.pins.delete(key);
    this.pins.set(key, e);
    return e;
  }

  set(key: string, entry: PinEntry): void {
    this.pins.delete(key);
    this.pins.set(key, entry);
    if (this.pins.size > this.capacity) {
      const oldest = this.pins.keys().next();
      if (!oldest.done) this.pins.delete(oldest.value);
    }
  }

  /** Extends an active session's pin once half its TTL is used; true when it did (persist it). */
  touch(e: PinEntry): boolean {
    const now = this.clock.now();
    if (e.expiresAtMs - now > e.ttlMs / 2) return false;
    e.expiresAtMs = now + e.ttlMs;
    return true;
  }

  /** A cut marker may lie in the future (a cut scheduled for when every gateway knows of it). */
  pin(tenantId: string, e: PinEntry): Pin {
    const cutAt = this.cuts.size === 0 ? undefined : this.cuts.get(cutKey(tenantId, e.versionId));
    return {
      versionId: e.versionId,
      createdAtMs: e.createdAtMs,
      cut: cutAt !== undefined && e.createdAtMs <= cutAt && cutAt <= this.clock.now(),
    };
  }

  addCut(tenantId: string, versionId: string, atMs: number): void {
    const key = cutKey(tenantId, versionId);
    if ((this.cuts.get(key) ?? -1) < atMs) this.cuts.set(key, atMs);
  }

  /** Drops cut markers older than any pin can be (every pin they could cut has expired). */
  pruneCuts(olderThanMs: number): void {
    for (const [k, at] of this.cuts) if (at < olderThanMs) this.cuts.delete(k);
  }

  newEntry(versionId: string, ttlMs: number): PinEntry {
    const now = this.clock.now();
    return { versionId, createdAtMs: now, expiresAtMs: now + ttlMs, ttlMs };
  }
}
