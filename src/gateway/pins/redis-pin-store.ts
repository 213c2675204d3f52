import { Redis } from 'ioredis';
import type { Clock } from '../../shared/clock.js';
import type { ComponentHealth } from '../health.js';
import { cacheKey, PinCache, type PinEntry } from './pin-cache.js';
import type { Pin, PinStoreStats, SessionPinStore } from './session-pin-store.js';

// Atomic first-writer-wins: returns the pin that is there, or sets ours and returns it.
const GET_OR_SET = `local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]`;

interface PinCommands {
  pinGetOrSet(key: string, value: string, ttlMs: number): Promise<string>;
}

export interface RedisPinStoreOptions {
  url: string;
  /** Key prefix shared with the rest of the deployment (`<prefix>:pin:<tenant>:<session>`). */
  prefix: string;
  clock: Clock;
  /** Pins cached in this process. */
  capacity: number;
  /** The longest pin TTL in use: cut markers are kept this long. */
  maxTtlMs: number;
  /** Bound on a pin miss: a slow Redis costs a new session at most this much. */
  commandTimeoutMs: number;
  /** How often hard cuts made by other processes are picked up. */
  cutRefreshMs: number;
  /**
   * A hard cut takes effect this long after it is made, on every gateway at once: long enough for
   * every gateway to have picked it up (two refreshes). Cutting at once would let a gateway that
   * has not heard of the cut serve the old version to a session another gateway has just moved.
   * Default 0 (at once: one process, or tests).
   */
  cutDelayMs?: number;
  /** Pins made while Redis was unreachable, kept to write when it returns. */
  maxUnsynced?: number;
  onError?: (err: unknown) => void;
}

interface Unsynced {
  redisKey: string;
  tenantId: string;
  entry: PinEntry;
  /** A replacement overwrites; a first pin only sets if Redis has none. */
  force: boolean;
}

const encode = (e: PinEntry) => `${e.versionId}|${e.createdAtMs}`;

/**
 * The scaled pin store: Redis holds the pins every gateway shares (SET-if-absent with TTL, so
 * concurrent gateways agree on a session's first version), with this process's LRU in front so
 * only a session's first request on this gateway waits for Redis. Hard cuts are markers in one
 * Redis hash, refreshed periodically.
 *
 * When Redis is unreachable the store keeps serving: known pins from memory, new pins decided
 * locally (the bucket is deterministic, so other gateways mostly decide the same) and remembered.
 * It reports itself degraded, and when Redis is back it writes those pins, adopting whatever
 * another gateway wrote meanwhile so all gateways converge on one answer.
 */
export class RedisPinStore implements SessionPinStore {
  private readonly client: Redis & PinCommands;
  private readonly cache: PinCache;
  private readonly cutsKey: string;
  private readonly unsynced = new Map<string, Unsynced>();
  private readonly timer: NodeJS.Timeout;
  private lastError: string | null = null;
  private readonly counts = { hits: 0, misses: 0, writeFailures: 0 };

  constructor(private readonly opts: RedisPinStoreOptions) {
    this.cache = new PinCache(opts.capacity, opts.clock);
    this.cutsKey = `${opts.prefix}:pin-cuts`;
    const client = new Redis(opts.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: opts.commandTimeoutMs,
      // Reconnect forever, backing off to 2 s: the gateway must recover by itself.
      retryStrategy: (times: number) => Math.min(times * 100, 2000),
    });
    client.defineCommand('pinGetOrSet', { numberOfKeys: 1, lua: GET_OR_SET });
    this.client = client as Redis & PinCommands;
    // Errors are reported through health(); an 'error' event without a listener would crash.
    this.client.on('error', (e: unknown) => this.failed(e));
    this.client.on('ready', () => void this.resync());
    this.timer = setInterval(() => void this.syncCuts(), opts.cutRefreshMs).unref();
  }

  /** Resolves once connected (or rejects after `timeoutMs`); for start-up and tests. */
  async ready(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.client.status !== 'ready') {
      if (Date.now() > deadline) throw new Error(`Redis not reachable within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await this.syncCuts();
  }

  peek(tenantId: string, sessionKey: string): Pin | undefined {
    const e = this.cache.get(cacheKey(tenantId, sessionKey));
    if (!e) return undefined;
    const pin = this.cache.pin(tenantId, e);
    // A cut pin in memory may be stale: another gateway may have moved the session already, and
    // moving (and telling) it twice is wrong. Redis knows; ask it (getOrSet) while it answers.
    if (pin.cut && this.client.status === 'ready') return undefined;
    this.counts.hits++;
    if (this.cache.touch(e)) {
      this.client
        .pexpire(this.redisKey(tenantId, sessionKey), e.ttlMs)
        .catch((err: unknown) => this.failed(err));
    }
    return pin;
  }

  async getOrSet(tenantId: string, sessionKey: string, versionId: string, ttlMs: number): Promise<Pin> {
    const found = this.peek(tenantId, sessionKey);
    if (found) return found;
    this.counts.misses++;
    const key = cacheKey(tenantId, sessionKey);
    // Held here but passed over by peek: a cut pin, to be confirmed in Redis.
    const cut = this.cache.get(key);
    const mine = this.cache.newEntry(versionId, ttlMs);
    const redisKey = this.redisKey(tenantId, sessionKey);
    try {
      const stored = await this.client.pinGetOrSet(redisKey, encode(mine), ttlMs);
      this.recovered();
      const entry = decode(stored, mine);
      this.cache.set(key, entry);
      return this.cache.pin(tenantId, entry);
    } catch (e) {
      this.failed(e);
      // A cut session stays cut without Redis: it is moved to stable and told so.
      if (cut) return this.cache.pin(tenantId, cut);
      this.cache.set(key, mine);
      this.remember(key, { redisKey, tenantId, entry: mine, force: false });
      return this.cache.pin(tenantId, mine);
    }
  }

  replace(tenantId: string, sessionKey: string, versionId: string, ttlMs: number): void {
    const key = cacheKey(tenantId, sessionKey);
    const entry = this.cache.newEntry(versionId, ttlMs);
    this.cache.set(key, entry);
    const redisKey = this.redisKey(tenantId, sessionKey);
    this.client.set(redisKey, encode(entry), 'PX', ttlMs).then(
      () => this.recovered(),
      (e: unknown) => {
        this.failed(e);
        this.remember(key, { redisKey, tenantId, entry, force: true });
      },
    );
  }

  async hardCut(tenantId: string, versionId: string): Promise<void> {
    const at = this.opts.clock.now() + (this.opts.cutDelayMs ?? 0);
    this.cache.addCut(tenantId, versionId, at);
    await this.client.hset(this.cutsKey, `${tenantId}|${versionId}`, String(at));
  }

  health(): ComponentHealth {
    const up = this.client.status === 'ready' && this.lastError === null;
    return {
      name: 'session-pins',
      healthy: up,
      detail: up
        ? null
        : `redis ${this.client.status}${this.lastError ? `: ${this.lastError}` : ''}; serving local pins`,
    };
  }

  stats(): PinStoreStats & { unsynced: number } {
    return { cached: this.cache.size, ...this.counts, unsynced: this.unsynced.size };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.client.disconnect();
  }

  private redisKey(tenantId: string, sessionKey: string): string {
    return `${this.opts.prefix}:pin:${tenantId}:${sessionKey}`;
  }

  private remember(key: string, u: Unsynced): void {
    const max = this.opts.maxUnsynced ?? 100_000;
    if (this.unsynced.size >= max && !this.unsynced.has(key)) {
      this.counts.writeFailures++;
      return;
    }
    this.unsynced.set(key, u);
  }

  private failed(e: unknown): void {
    this.lastError = e instanceof Error ? e.message : String(e);
    this.opts.onError?.(e);
  }

  private recovered(): void {
    if (this.lastError !== null && this.client.status === 'ready') this.lastError = null;
  }

  /** Writes the pins decided while Redis was away; adopts any pin another gateway set first. */
  private async resync(): Promise<void> {
    try {
      await this.syncCuts();
      for (const [key, u] of [...this.unsynced]) {
        const ttl = Math.max(1, u.entry.expiresAtMs - this.opts.clock.now());
        if (u.force) {
          await this.client.set(u.redisKey, encode(u.entry), 'PX', ttl);
        } else {
          const stored = decode(await this.client.pinGetOrSet(u.redisKey, encode(u.entry), ttl), u.entry);
          if (stored.versionId !== u.entry.versionId) this.cache.set(key, stored);
        }
        this.unsynced.delete(key);
      }
      this.lastError = null;
    } catch (e) {
      this.failed(e);
    }
  }

  /** Picks up hard cuts other processes made (the timer does it every `cutRefreshMs`). */
  async syncCuts(): Promise<void> {
    if (this.client.status !== 'ready') return;
    try {
      const all = await this.client.hgetall(this.cutsKey);
      const oldest = this.opts.clock.now() - this.opts.maxTtlMs;
      const stale: string[] = [];
      for (const [field, at] of Object.entries(all)) {
        const sep = field.indexOf('|');
        const atMs = Number(at);
        if (sep < 0 || !Number.isFinite(atMs)) continue;
        if (atMs < oldest) stale.push(field);
        else this.cache.addCut(field.slice(0, sep), field.slice(sep + 1), atMs);
      }
      if (stale.length > 0) await this.client.hdel(this.cutsKey, ...stale);
      this.cache.pruneCuts(oldest);
    } catch (e) {
      this.failed(e);
    }
  }
}

/** Reads a stored `<version>|<createdAtMs>`; a value we cannot read is replaced by ours. */
function decode(stored: string, mine: PinEntry): PinEntry {
  const sep = stored.lastIndexOf('|');
  const createdAtMs = Number(stored.slice(sep + 1));
  if (sep <= 0 || !Number.isFinite(createdAtMs)) return mine;
  return { versionId: stored.slice(0, sep), createdAtMs, expiresAtMs: mine.expiresAtMs, ttlMs: mine.ttlMs };
}
