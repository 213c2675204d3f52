import type { Clock } from '../../shared/clock.js';
import type { ComponentHealth } from '../health.js';
import { cacheKey, PinCache, type PinEntry } from './pin-cache.js';
import type { PinPersistence, StoredPin } from './pin-persistence.js';
import type { Pin, PinStoreStats, SessionPinStore } from './session-pin-store.js';

export interface MemoryPinStoreOptions {
  clock: Clock;
  /** Most pins held; the least recently used are forgotten first. */
  capacity: number;
  /** The longest pin TTL in use: cut markers are kept this long. */
  maxTtlMs: number;
  /** Optional: where pins survive a restart (written behind, loaded at start). */
  persistence?: PinPersistence;
  flushIntervalMs?: number;
  onError?: (err: unknown) => void;
}

/** Flushes between two prunes of expired rows. */
const PRUNE_EVERY = 60;

/**
 * The embedded pin store: pins live in this process's memory, so every lookup is synchronous.
 * With persistence, changed pins are written behind in batches (the request path never waits
 * for the database) and loaded at start, so a restart keeps sessions where they were. A pin
 * evicted from memory is not read back per request; its session is then bucketed again, which
 * gives the same version unless the canary percentage changed meanwhile.
 */
export class MemoryPinStore implements SessionPinStore {
  private readonly cache: PinCache;
  private readonly dirty = new Map<string, StoredPin>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private flushes = 0;
  private lastError: string | null = null;
  private readonly counts = { hits: 0, misses: 0, writeFailures: 0 };

  constructor(private readonly opts: MemoryPinStoreOptions) {
    this.cache = new PinCache(opts.capacity, opts.clock);
  }

  /** Loads persisted pins and starts the write-behind timer. */
  async start(): Promise<void> {
    const p = this.opts.persistence;
    if (!p) return;
    const { pins, cuts } = await p.load(this.opts.clock.now(), this.opts.capacity);
    for (const s of pins) {
      this.cache.set(cacheKey(s.tenantId, s.sessionKey), {
        versionId: s.versionId,
        createdAtMs: s.createdAtMs,
        expiresAtMs: s.expiresAtMs,
        ttlMs: s.expiresAtMs - s.createdAtMs,
      });
    }
    for (const c of cuts) this.cache.addCut(c.tenantId, c.versionId, c.cutAtMs);
    this.timer = setInterval(() => void this.flush(), this.opts.flushIntervalMs ?? 1000).unref();
  }

  peek(tenantId: string, sessionKey: string): Pin | undefined {
    const key = cacheKey(tenantId, sessionKey);
    const e = this.cache.get(key);
    if (!e) return undefined;
    this.counts.hits++;
    if (this.cache.touch(e)) this.markDirty(key, tenantId, sessionKey, e);
    return this.cache.pin(tenantId, e);
  }

  async getOrSet(tenantId: string, sessionKey: string, versionId: string, ttlMs: number): Promise<Pin> {
    const found = this.peek(tenantId, sessionKey);
    if (found) return found;
    this.counts.misses++;
    return this.write(tenantId, sessionKey, versionId, ttlMs);
  }

  replace(tenantId: string, sessionKey: string, versionId: string, ttlMs: number): void {
    this.write(tenantId, sessionKey, versionId, ttlMs);
  }

  async hardCut(tenantId: string, versionId: string): Promise<void> {
    const now = this.opts.clock.now();
    this.cache.addCut(tenantId, versionId, now);
    await this.opts.persistence?.saveCut({ tenantId, versionId, cutAtMs: now });
  }

  health(): ComponentHealth {
    return { name: 'session-pins', healthy: this.lastError === null, detail: this.lastError };
  }

  stats(): PinStoreStats {
    return { cached: this.cache.size, ...this.counts };
  }

  /** Writes the changed pins now (the timer does it on its own; tests and shutdown call it). */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.doFlush().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  private write(tenantId: string, sessionKey: string, versionId: string, ttlMs: number): Pin {
    const key = cacheKey(tenantId, sessionKey);
    const e = this.cache.newEntry(versionId, ttlMs);
    this.cache.set(key, e);
    this.markDirty(key, tenantId, sessionKey, e);
    return { versionId, createdAtMs: e.createdAtMs, cut: false };
  }

  private markDirty(key: string, tenantId: string, sessionKey: string, e: PinEntry): void {
    if (!this.opts.persistence) return;
    // Bounded: with the database gone for long, the oldest unsaved change is dropped and counted.
    if (this.dirty.size >= this.opts.capacity && !this.dirty.has(key)) {
      const oldest = this.dirty.keys().next();
      if (!oldest.done) this.dirty.delete(oldest.value);
      this.counts.writeFailures++;
    }
    this.dirty.set(key, {
      tenantId,
      sessionKey,
      versionId: e.versionId,
      createdAtMs: e.createdAtMs,
      expiresAtMs: e.expiresAtMs,
    });
  }

  private async doFlush(): Promise<void> {
    const p = this.opts.persistence;
    if (!p) return;
    const batch = [...this.dirty.values()];
    this.dirty.clear();
    try {
      await p.save(batch);
      if (++this.flushes % PRUNE_EVERY === 0) {
        const now = this.opts.clock.now();
        await p.prune(now, now - this.opts.maxTtlMs);
        this.cache.pruneCuts(now - this.opts.maxTtlMs);
      }
      this.lastError = null;
    } catch (e) {
      this.lastError = `pin persistence failing: ${e instanceof Error ? e.message : String(e)}`;
      this.opts.onError?.(e);
      // Put the batch back unless a newer change of the same session arrived meanwhile.
      for (const s of batch) {
        const key = cacheKey(s.tenantId, s.sessionKey);
        if (!this.dirty.has(key)) this.dirty.set(key, s);
      }
    }
  }
}
