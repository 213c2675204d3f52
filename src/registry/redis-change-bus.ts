import { Redis } from 'ioredis';
import type { ChangeBus } from './change-bus.js';

// Sets the key only if the new version is greater: publishers may race, the key never goes back.
const SET_MAX = `local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local v = tonumber(ARGV[1])
if v > cur then redis.call('SET', KEYS[1], ARGV[1]) end
redis.call('PUBLISH', KEYS[2], ARGV[1])
return v`;

export interface RedisChangeBusOptions {
  url: string;
  /** Key prefix, so several deployments (or test runs) can share one Redis. */
  prefix?: string;
}

/**
 * The scaled mode: a change is announced on a Redis pub/sub channel and recorded in a version
 * key. Subscribers reload on a message; the version key lets them catch a message they missed
 * (during a reconnect, say) on their next periodic check.
 */
export class RedisChangeBus implements ChangeBus {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly listeners = new Set<(v: number) => void>();
  private readonly versionKey: string;
  private readonly channel: string;

  constructor(opts: RedisChangeBusOptions) {
    const prefix = opts.prefix ?? 'switchyard';
    this.versionKey = `${prefix}:registry:version`;
    this.channel = `${prefix}:registry:changed`;
    const common = {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      // Keep trying forever, backing off to 2 s: a gateway must recover by itself.
      retryStrategy: (times: number) => Math.min(times * 100, 2000),
    };
    this.pub = new Redis(opts.url, common);
    this.sub = new Redis(opts.url, { ...common, enableOfflineQueue: true });
    // Errors are surfaced through healthy(); an 'error' event without a listener would crash.
    this.pub.on('error', () => {});
    this.sub.on('error', () => {});
    this.sub.on('message', (_channel: string, message: string) => {
      const v = Number(message);
      if (Number.isFinite(v)) for (const l of this.listeners) l(v);
    });
    this.sub.subscribe(this.channel).catch(() => {});
  }

  async publish(version: number): Promise<void> {
    await this.pub.eval(SET_MAX, 2, this.versionKey, this.channel, String(version));
  }

  subscribe(listener: (version: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async latestVersion(): Promise<number | undefined> {
    const v = await this.pub.get(this.versionKey);
    return v === null ? undefined : Number(v);
  }

  healthy(): boolean {
    return this.pub.status === 'ready' && this.sub.status === 'ready';
  }

  /** Resolves once both connections are ready (or rejects after `timeoutMs`). */
  async ready(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.healthy()) {
      if (Date.now() > deadline) throw new Error(`Redis not reachable within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.pub.disconnect();
    this.sub.disconnect();
  }
}
