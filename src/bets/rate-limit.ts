import type { ModelVersion } from '../registry/types.js';
import { type Clock, systemClock } from '../shared/clock.js';

/** Schedules a callback; injectable so the limiter's logic is testable without waiting. */
export type Scheduler = (fn: () => void, ms: number) => { cancel(): void };

export const timerScheduler: Scheduler = (fn, ms) => {
  const t = setTimeout(fn, ms);
  return { cancel: () => clearTimeout(t) };
};

export class AbortedError extends Error {
  constructor() {
    super('aborted');
    this.name = 'AbortError';
  }
}

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
  signal: AbortSignal | undefined;
}

/**
 * A token bucket: `rate` requests per second on average, at most `burst` at once after a quiet
 * spell. Tokens accrue continuously (fractions kept), so a late timer never loses throughput;
 * waiters are served first come, first served. A provider's 429 with Retry-After pauses the
 * whole bucket: every caller of that provider waits, not only the one that was refused.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private pausedUntil = 0;
  private readonly waiters: Waiter[] = [];
  private timer: { cancel(): void } | undefined;
  /**
   * Waiters by the signal that may abort them. One abort listener per signal (a run's), not one
   * per waiting call: adding and removing a listener per call was a visible part of its CPU.
   */
  private readonly bySignal = new WeakMap<AbortSignal, Set<Waiter>>();

  constructor(
    readonly rate: number,
    readonly burst: number,
    private readonly clock: Clock = systemClock,
    private readonly schedule: Scheduler = timerScheduler,
  ) {
    if (!(rate > 0) || !(burst >= 1)) throw new Error('a token bucket needs rate > 0 and burst >= 1');
    this.tokens = burst;
    this.last = clock.now();
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AbortedError());
    this.refill();
    if (this.waiters.length === 0 && this.tokens >= 1 && this.clock.now() >= this.pausedUntil) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      if (signal) this.watch(signal).add(waiter);
      this.waiters.push(waiter);
      this.arm();
    });
  }

  private watch(signal: AbortSignal): Set<Waiter> {
    let set = this.bySignal.get(signal);
    if (!set) {
      const mine = new Set<Waiter>();
      set = mine;
      this.bySignal.set(signal, mine);
      signal.addEventListener(
        'abort',
        () => {
          for (const w of mine) {
            const i = this.waiters.indexOf(w);
            if (i >= 0) this.waiters.splice(i, 1);
            w.reject(new AbortedError());
          }
          mine.clear();
        },
        { once: true },
      );
    }
    return set;
  }

  /** No token is handed out before `atMs` (a provider said Retry-After). */
  pauseUntil(atMs: number): void {
    if (atMs <= this.pausedUntil) return;
    this.pausedUntil = atMs;
    this.timer?.cancel();
    this.timer = undefined;
    this.arm();
  }

  /** Callers waiting for a token (for tests and progress displays). */
  get waiting(): number {
    return this.waiters.length;
  }

  private refill(): void {
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
      this.last = now;
    }
  }

  /** Serves waiters while tokens last, then sleeps until the next token (or the pause end). */
  private drain = (): void => {
    this.timer = undefined;
    this.refill();
    while (this.waiters.length > 0 && this.tokens >= 1 && this.clock.now() >= this.pausedUntil) {
      this.tokens -= 1;
      const w = this.waiters.shift() as Waiter;
      if (w.signal) this.bySignal.get(w.signal)?.delete(w);
      w.resolve();
    }
    this.arm();
  };

  private arm(): void {
    if (this.timer || this.waiters.length === 0) return;
    const now = this.clock.now();
    const untilToken = this.tokens >= 1 ? 0 : ((1 - this.tokens) * 1000) / this.rate;
    const wait = Math.max(untilToken, this.pausedUntil - now, 0);
    this.timer = this.schedule(this.drain, Math.ceil(wait));
  }
}

export interface ProviderLimit {
  requestsPerSecond: number;
  /** Default: 50 ms worth of requests, at least 1. */
  burst?: number;
}

export interface RateLimitConfig {
  /** Applies to every provider origin without its own entry; absent: unlimited. */
  default?: ProviderLimit;
  /** By provider origin (`https://api.openai.com`, `http://127.0.0.1:9000`). */
  byOrigin?: Record<string, ProviderLimit>;
}

/**
 * One bucket per provider origin, shared by every run in the process: a fleet run of many
 * tenants stays under each provider's limit together, not each tenant separately.
 */
export class ProviderRateLimits {
  private readonly buckets = new Map<string, TokenBucket | null>();
  /** Endpoint -> origin, so a URL is parsed once, not per call. */
  private readonly origins = new Map<string, string>();

  constructor(
    private readonly config: RateLimitConfig = {},
    private readonly clock: Clock = systemClock,
    private readonly schedule: Scheduler = timerScheduler,
  ) {}

  /** The bucket for the version's provider, or undefined when it is not limited. */
  forVersion(version: ModelVersion): TokenBucket | undefined {
    let origin = this.origins.get(version.endpoint);
    if (origin === undefined) {
      try {
        origin = new URL(version.endpoint).origin;
      } catch {
        origin = version.endpoint;
      }
      this.origins.set(version.endpoint, origin);
    }
    let bucket = this.buckets.get(origin);
    if (bucket === undefined) {
      const limit = this.config.byOrigin?.[origin] ?? this.config.default;
      bucket = limit
        ? new TokenBucket(
            limit.requestsPerSecond,
            limit.burst ?? Math.max(1, Math.floor(limit.requestsPerSecond / 20)),
            this.clock,
            this.schedule,
          )
        : null;
      this.buckets.set(origin, bucket);
    }
    return bucket ?? undefined;
  }
}

/**
 * Bounded concurrency: at most `size` holders at once; waiters are served by priority (lower
 * first), then in arrival order. Runs pass their start order as priority, so in a fleet run the
 * earliest tenants finish first and verdicts stream out, instead of every tenant finishing at
 * the very end; the total rate (set by the token bucket) is the same either way.
 */
export class Semaphore {
  private active = 0;
  private readonly queue: { priority: number; wake: () => void }[] = [];

  constructor(readonly size: number) {}

  async acquire(priority = 0): Promise<() => void> {
    if (this.active < this.size) {
      this.active++;
      return this.releaser();
    }
    await new Promise<void>((wake) => {
      // Insert after every waiter of the same or a lower priority number (stable order).
      let lo = 0;
      let hi = this.queue.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((this.queue[mid] as { priority: number }).priority <= priority) lo = mid + 1;
        else hi = mid;
      }
      this.queue.splice(lo, 0, { priority, wake });
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      // The slot passes straight to the next waiter: `active` stays the same.
      if (next) next.wake();
      else this.active--;
    };
  }
}
