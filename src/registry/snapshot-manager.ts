import type { Clock } from '../shared/clock.js';
import type { ChangeBus } from './change-bus.js';
import type { RegistryStore } from './registry-store.js';
import { buildSnapshot, EMPTY_SNAPSHOT, type RoutingSnapshot } from './routing-snapshot.js';

export interface SnapshotManagerOptions {
  store: RegistryStore;
  bus: ChangeBus;
  clock: Clock;
  /** How often to compare the bus's latest version with ours (catches lost messages). */
  busCheckIntervalMs?: number;
  /** How often to compare the database's version with ours (works with the bus down). */
  storeCheckIntervalMs?: number;
  onError?: (err: unknown) => void;
  onSwap?: (snapshot: RoutingSnapshot) => void;
}

/**
 * Keeps this process's routing snapshot current. A change notification, a periodic check of
 * the bus's version key, or a slower check of the database's version triggers a reload; reloads
 * are coalesced (one at a time; a newer request during a reload runs one more afterwards) and
 * the new snapshot replaces the old one in a single assignment, so readers never see a mix.
 */
export class SnapshotManager {
  private snapshot: RoutingSnapshot = EMPTY_SNAPSHOT;
  private reloading: Promise<void> | null = null;
  private wanted = -1;
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | null = null;
  private lastError: unknown = null;

  constructor(private readonly opts: SnapshotManagerOptions) {}

  /** The current snapshot: a plain field read, cheap enough for every request. */
  current(): RoutingSnapshot {
    return this.snapshot;
  }

  async start(): Promise<void> {
    this.unsubscribe = this.opts.bus.subscribe((v) => this.request(v));
    await this.reload();
    const busEvery = this.opts.busCheckIntervalMs ?? 250;
    const storeEvery = this.opts.storeCheckIntervalMs ?? 2000;
    this.timers.push(setInterval(() => void this.checkBus(), busEvery).unref());
    this.timers.push(setInterval(() => void this.checkStore(), storeEvery).unref());
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.unsubscribe?.();
    await this.reloading;
  }

  /** Reloads if `version` is newer than what we hold; resolves when that version (or later) is in. */
  request(version: number): Promise<void> {
    if (version <= this.snapshot.version) return Promise.resolve();
    this.wanted = Math.max(this.wanted, version);
    return this.reload();
  }

  /** Forces a reload now (for start-up and for tests). */
  reload(): Promise<void> {
    if (this.reloading) {
      this.wanted = Math.max(this.wanted, this.snapshot.version + 1);
      return this.reloading;
    }
    this.reloading = (async () => {
      try {
        do {
          const dump = await this.opts.store.dump();
          if (dump.version >= this.snapshot.version) {
            this.snapshot = buildSnapshot(dump, this.opts.clock.now());
            this.opts.onSwap?.(this.snapshot);
          }
        } while (
          this.wanted > this.snapshot.version &&
          (await this.opts.store.version()) > this.snapshot.version
        );
        this.lastError = null;
      } catch (e) {
        // Keep serving the snapshot we have; the next check retries.
        this.lastError = e;
        this.opts.onError?.(e);
      } finally {
        this.reloading = null;
      }
    })();
    return this.reloading;
  }

  /** True when the last reload attempt failed (the process serves a possibly stale snapshot). */
  stale(): boolean {
    return this.lastError !== null;
  }

  private async checkBus(): Promise<void> {
    if (!this.opts.bus.healthy()) return;
    try {
      const v = await this.opts.bus.latestVersion();
      if (v !== undefined) await this.request(v);
    } catch {
      // The bus went away between healthy() and the call; the store check covers us.
    }
  }

  private async checkStore(): Promise<void> {
    try {
      await this.request(await this.opts.store.version());
    } catch (e) {
      this.lastError = e;
    }
  }
}
