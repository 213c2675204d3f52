import type { Clock } from '../shared/clock.js';

export interface BreakerOptions {
  /** Length of the rolling window the error rate is measured over. */
  windowMs: number;
  /** Buckets the window is divided into (older buckets fall out as time passes). */
  buckets: number;
  /** No verdict on fewer calls than this in the window (a single failure is not a trend). */
  minRequests: number;
  /** Error rate (0..1) at which the breaker opens. */
  errorRate: number;
  /** How long it stays open before letting probes through (half-open). */
  openMs: number;
  /** Calls let through at once while half-open. */
  halfOpenProbes: number;
}

export type BreakerState = 'closed' | 'open' | 'half_open';

/** How one call ended, from the breaker's point of view. */
export type CallOutcome = 'success' | 'failure' | 'ignored';

/**
 * A circuit breaker for one model version: counts successes and failures in a rolling window;
 * past the error-rate threshold it opens and the gateway stops sending to the version; after
 * `openMs` it lets a few probes through (half-open); one success closes it, one failure opens it
 * again. Time comes from the injected clock, so tests drive it without waiting.
 */
export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private openUntil = 0;
  private probes = 0;
  private readonly bucketMs: number;
  private readonly starts: number[];
  private readonly ok: number[];
  private readonly failed: number[];

  constructor(
    private readonly opts: BreakerOptions,
    private readonly clock: Clock,
  ) {
    this.bucketMs = Math.max(1, Math.floor(opts.windowMs / opts.buckets));
    this.starts = new Array<number>(opts.buckets).fill(-1);
    this.ok = new Array<number>(opts.buckets).fill(0);
    this.failed = new Array<number>(opts.buckets).fill(0);
  }

  /** May a call go to this version now? A true in half-open takes a probe slot: report it. */
  allow(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') {
      if (this.clock.now() < this.openUntil) return false;
      this.state = 'half_open';
      this.probes = 0;
    }
    if (this.probes >= this.opts.halfOpenProbes) return false;
    this.probes++;
    return true;
  }

  record(outcome: CallOutcome): void {
    if (this.state === 'half_open') {
      this.probes = Math.max(0, this.probes - 1);
      if (outcome === 'success') this.close();
      else if (outcome === 'failure') this.open();
      return;
    }
    if (outcome === 'ignored') return;
    const now = this.clock.now();
    const start = now - (now % this.bucketMs);
    const i = Math.floor(now / this.bucketMs) % this.opts.buckets;
    if (this.starts[i] !== start) {
      this.starts[i] = start;
      this.ok[i] = 0;
      this.failed[i] = 0;
    }
    if (outcome === 'success') {
      this.ok[i] = (this.ok[i] ?? 0) + 1;
      return;
    }
    this.failed[i] = (this.failed[i] ?? 0) + 1;
    if (this.state === 'closed' && this.tripped(now)) this.open();
  }

  /** Milliseconds until an open breaker lets a probe through (0 when not open). */
  retryInMs(): number {
    return this.state === 'open' ? Math.max(0, this.openUntil - this.clock.now()) : 0;
  }

  snapshot(): { state: BreakerState; calls: number; errorRate: number } {
    const { calls, failures } = this.totals(this.clock.now());
    return { state: this.state, calls, errorRate: calls === 0 ? 0 : failures / calls };
  }

  private tripped(now: number): boolean {
    const { calls, failures } = this.totals(now);
    return calls >= this.opts.minRequests && failures / calls >= this.opts.errorRate;
  }

  private totals(now: number): { calls: number; failures: number } {
    const oldest = now - this.opts.windowMs;
    let calls = 0;
    let failures = 0;
    for (let i = 0; i < this.opts.buckets; i++) {
      if ((this.starts[i] ?? -1) <= oldest) continue;
      calls += (this.ok[i] ?? 0) + (this.failed[i] ?? 0);
      failures += this.failed[i] ?? 0;
    }
    return { calls, failures };
  }

  private open(): void {
    this.state = 'open';
    this.openUntil = this.clock.now() + this.opts.openMs;
    this.probes = 0;
  }

  private close(): void {
    this.state = 'closed';
    this.starts.fill(-1);
    this.ok.fill(0);
    this.failed.fill(0);
  }
}

/** One breaker per model version, made on first use. */
export class BreakerRegistry {
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(
    private readonly opts: BreakerOptions,
    private readonly clock: Clock,
  ) {}

  get(versionId: string): CircuitBreaker {
    let b = this.breakers.get(versionId);
    if (!b) {
      b = new CircuitBreaker(this.opts, this.clock);
      this.breakers.set(versionId, b);
    }
    return b;
  }

  /** Breakers that are not closed, for health and metrics. */
  notClosed(): Array<{ versionId: string; state: BreakerState }> {
    const out: Array<{ versionId: string; state: BreakerState }> = [];
    for (const [versionId, b] of this.breakers) {
      const { state } = b.snapshot();
      if (state !== 'closed') out.push({ versionId, state });
    }
    return out;
  }
}
