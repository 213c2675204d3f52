import { type Clock, systemClock } from '../shared/clock.js';

/**
 * Keeps coercion from normalizing a regression. Coercion exists for rare, minor drift; when a
 * version needs it on more than `cap` of its tool calls (2% by default, the design's hard cap),
 * the drift is the version's behaviour, not noise, and repairing it would hide exactly what the
 * rollout must see. So per tenant and model version, over a sliding window:
 *
 *   calls     every validated tool call
 *   needed    calls that failed validation and that coercion would repair (applied or refused)
 *   coerced   calls actually repaired
 *
 * The rate is `needed / max(calls, minCalls)`: counting refused repairs keeps the rate honest
 * once coercion stops (counting only applied ones would drop the rate, re-enable coercion and
 * oscillate), and the `minCalls` floor keeps a small tenant's first calls from judging a rate
 * on five samples while still never allowing more than `cap * minCalls` repairs before the
 * window has filled. Crossing the cap latches: `shouldCoerce` stays false and the regression
 * signal stays raised until `reset` (an operator, or the controller after a rollback), however
 * the rate moves afterwards.
 */

export type LedgerOutcome =
  /** The call passed validation (nothing to coerce). */
  | 'valid'
  /** The call failed and coercion could not repair it. */
  | 'invalid'
  /** Coercion repaired the call and the repair was used. */
  | 'coerced'
  /** Coercion would have repaired the call but `shouldCoerce` said no. */
  | 'coercion_refused';

export interface CoercionLedgerOptions {
  /** Highest tolerated share of calls needing coercion; 0.02 by default. */
  cap?: number;
  /** Sliding window length; one hour by default. */
  windowMs?: number;
  /** Buckets the window is kept in (its resolution); 60 by default. */
  buckets?: number;
  /** Floor of the rate's denominator; 100 by default. */
  minCalls?: number;
  clock?: Clock;
  /** Called once when a tenant/version crosses the cap. */
  onSignal?: (signal: CoercionRegressionSignal) => void;
}

export interface CoercionStats {
  tenantId: string;
  versionId: string;
  calls: number;
  needed: number;
  coerced: number;
  /** needed / max(calls, minCalls) */
  rate: number;
  capped: boolean;
}

export interface CoercionRegressionSignal {
  kind: 'coercion_cap_exceeded';
  tenantId: string;
  versionId: string;
  /** Epoch ms when the cap was crossed. */
  at: number;
  calls: number;
  needed: number;
  coerced: number;
  rate: number;
  cap: number;
  windowMs: number;
}

interface State {
  tenantId: string;
  versionId: string;
  calls: Float64Array;
  needed: Float64Array;
  coerced: Float64Array;
  /** The absolute bucket number of the newest bucket written. */
  head: number;
  totals: { calls: number; needed: number; coerced: number };
  signal: CoercionRegressionSignal | null;
}

const PRUNE_EVERY = 4096;

export class CoercionLedger {
  readonly cap: number;
  readonly windowMs: number;
  readonly minCalls: number;
  private readonly buckets: number;
  private readonly bucketMs: number;
  private readonly clock: Clock;
  private readonly onSignal: ((signal: CoercionRegressionSignal) => void) | undefined;
  private readonly states = new Map<string, State>();
  private sincePrune = 0;

  constructor(opts: CoercionLedgerOptions = {}) {
    this.cap = opts.cap ?? 0.02;
    this.windowMs = opts.windowMs ?? 60 * 60_000;
    this.buckets = Math.max(1, Math.floor(opts.buckets ?? 60));
    this.minCalls = Math.max(1, opts.minCalls ?? 100);
    this.bucketMs = this.windowMs / this.buckets;
    this.clock = opts.clock ?? systemClock;
    this.onSignal = opts.onSignal;
    if (!(this.cap >= 0 && this.cap <= 1)) throw new RangeError('cap must be between 0 and 1');
    if (!(this.windowMs > 0)) throw new RangeError('windowMs must be positive');
  }

  /** Whether a repair of one more call may be used: false once capped or if it would cross the cap. */
  shouldCoerce(tenantId: string, versionId: string): boolean {
    const s = this.states.get(key(tenantId, versionId));
    if (!s) return 1 / this.minCalls <= this.cap;
    this.advance(s);
    if (s.signal) return false;
    return (s.totals.needed + 1) / Math.max(s.totals.calls + 1, this.minCalls) <= this.cap;
  }

  /** Records one validated tool call of this tenant on this version. */
  record(tenantId: string, versionId: string, outcome: LedgerOutcome): void {
    const s = this.state(tenantId, versionId);
    const slot = this.advance(s);
    s.calls[slot] = (s.calls[slot] ?? 0) + 1;
    s.totals.calls++;
    if (outcome === 'coerced' || outcome === 'coercion_refused') {
      s.needed[slot] = (s.needed[slot] ?? 0) + 1;
      s.totals.needed++;
    }
    if (outcome === 'coerced') {
      s.coerced[slot] = (s.coerced[slot] ?? 0) + 1;
      s.totals.coerced++;
    }
    if (!s.signal && this.rateOf(s) > this.cap) {
      s.signal = {
        kind: 'coercion_cap_exceeded',
        tenantId,
        versionId,
        at: this.clock.now(),
        calls: s.totals.calls,
        needed: s.totals.needed,
        coerced: s.totals.coerced,
        rate: this.rateOf(s),
        cap: this.cap,
        windowMs: this.windowMs,
      };
      this.onSignal?.(s.signal);
    }
    if (++this.sincePrune >= PRUNE_EVERY) this.prune();
  }

  stats(tenantId: string, versionId: string): CoercionStats {
    const s = this.states.get(key(tenantId, versionId));
    if (!s) return { tenantId, versionId, calls: 0, needed: 0, coerced: 0, rate: 0, capped: false };
    this.advance(s);
    return { tenantId, versionId, ...s.totals, rate: this.rateOf(s), capped: s.signal !== null };
  }

  /** The raised (latched) regression signals, for the rollback controller and the admin API. */
  signals(): CoercionRegressionSignal[] {
    const out: CoercionRegressionSignal[] = [];
    for (const s of this.states.values()) if (s.signal) out.push(s.signal);
    return out;
  }

  /** Clears the latch (and the window) for a tenant/version: a deliberate decision, never automatic. */
  reset(tenantId: string, versionId: string): void {
    this.states.delete(key(tenantId, versionId));
  }

  /** Drops tenant/version entries with an empty window and no raised signal. */
  prune(): void {
    this.sincePrune = 0;
    for (const [k, s] of this.states) {
      this.advance(s);
      if (!s.signal && s.totals.calls === 0) this.states.delete(k);
    }
  }

  private rateOf(s: State): number {
    return s.totals.needed / Math.max(s.totals.calls, this.minCalls);
  }

  private state(tenantId: string, versionId: string): State {
    const k = key(tenantId, versionId);
    let s = this.states.get(k);
    if (!s) {
      s = {
        tenantId,
        versionId,
        calls: new Float64Array(this.buckets),
        needed: new Float64Array(this.buckets),
        coerced: new Float64Array(this.buckets),
        head: this.bucketOf(this.clock.now()),
        totals: { calls: 0, needed: 0, coerced: 0 },
        signal: null,
      };
      this.states.set(k, s);
    }
    return s;
  }

  private bucketOf(ms: number): number {
    return Math.floor(ms / this.bucketMs);
  }

  /** Expires buckets that slid out of the window; returns the current bucket's slot. */
  private advance(s: State): number {
    const now = this.bucketOf(this.clock.now());
    if (now > s.head) {
      const steps = Math.min(now - s.head, this.buckets);
      for (let i = 1; i <= steps; i++) {
        const slot = (s.head + i) % this.buckets;
        s.totals.calls -= s.calls[slot] ?? 0;
        s.totals.needed -= s.needed[slot] ?? 0;
        s.totals.coerced -= s.coerced[slot] ?? 0;
        s.calls[slot] = 0;
        s.needed[slot] = 0;
        s.coerced[slot] = 0;
      }
      s.head = now;
    }
    return ((s.head % this.buckets) + this.buckets) % this.buckets;
  }
}

function key(tenantId: string, versionId: string): string {
  return `${tenantId}\u0000${versionId}`;
}
