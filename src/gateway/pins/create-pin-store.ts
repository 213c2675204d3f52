import type { Clock } from '../../shared/clock.js';
import type { SqlDatabase } from '../../storage/sql-database.js';
import { MemoryPinStore } from './memory-pin-store.js';
import { RedisPinStore } from './redis-pin-store.js';
import type { SessionPinStore } from './session-pin-store.js';
import { SqlPinPersistence } from './sql-pin-persistence.js';

export interface PinStoreConfig {
  /** memory (embedded; persisted to the database behind the cache) or redis (shared by gateways). */
  driver: 'memory' | 'redis';
  /** Pins held in this process. */
  cacheSize: number;
  /** The pin TTL (the gateway's sessionPinTtlMs). */
  ttlMs: number;
  /** memory: how often changed pins are written to the database. */
  flushIntervalMs: number;
  /** redis */
  redisUrl?: string;
  prefix: string;
  commandTimeoutMs: number;
  cutRefreshMs: number;
}

export const DEFAULT_PIN_STORE_CONFIG: Omit<PinStoreConfig, 'driver' | 'ttlMs' | 'prefix'> = {
  cacheSize: 500_000,
  flushIntervalMs: 1_000,
  commandTimeoutMs: 250,
  cutRefreshMs: 1_000,
};

/**
 * Builds and starts the configured pin store. A memory store with a database loads the pins a
 * previous run left; a Redis store starts even when Redis is down (it serves degraded and
 * reconnects by itself).
 */
export async function createSessionPinStore(
  config: PinStoreConfig,
  deps: { clock: Clock; db?: SqlDatabase; onError?: (err: unknown) => void },
): Promise<SessionPinStore> {
  if (config.driver === 'redis') {
    if (!config.redisUrl) throw new Error('the redis pin store needs a Redis URL');
    const store = new RedisPinStore({
      url: config.redisUrl,
      prefix: config.prefix,
      clock: deps.clock,
      capacity: config.cacheSize,
      maxTtlMs: config.ttlMs,
      commandTimeoutMs: config.commandTimeoutMs,
      cutRefreshMs: config.cutRefreshMs,
      // Every gateway has picked a cut up by then, so all of them move its sessions from then on.
      cutDelayMs: 2 * config.cutRefreshMs,
      ...(deps.onError ? { onError: deps.onError } : {}),
    });
    await store.ready(2_000).catch(() => {});
    return store;
  }
  const store = new MemoryPinStore({
    clock: deps.clock,
    capacity: config.cacheSize,
    maxTtlMs: config.ttlMs,
    flushIntervalMs: config.flushIntervalMs,
    ...(deps.db ? { persistence: new SqlPinPersistence(deps.db) } : {}),
    ...(deps.onError ? { onError: deps.onError } : {}),
  });
  await store.start();
  return store;
}
