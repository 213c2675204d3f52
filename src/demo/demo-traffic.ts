import { setMaxListeners } from 'node:events';
import type { CaseSpec } from '../bets/bets-types.js';
import { runAgentSession, type SessionOutcome } from './demo-agent.js';

export interface TrafficTenant {
  tenantId: string;
  apiKey: string;
  /** The tasks its agents work on (its golden cases' inputs). */
  tasks: CaseSpec[];
  /** Relative share of the fleet's traffic (its requests per hour). */
  weight: number;
}

export interface TenantTrafficStats {
  sessions: number;
  requests: number;
  errors: number;
  toolCalls: number;
  resets: number;
  /** Sessions restarted from the beginning after a reset signal. */
  restarts: number;
  canarySessions: number;
  failures: number;
}

export interface DemoTrafficOptions {
  gatewayUrl: string;
  channel: string;
  /** Agent sessions started per second across the fleet (real time). */
  sessionsPerSecond: number;
  /** Sessions in flight per tenant at most. */
  concurrencyPerTenant?: number;
  onError?: (err: unknown) => void;
}

/**
 * Simulated agents of every tenant running multi-turn tool-using sessions through the gateway,
 * at a fleet-wide session rate shared by the tenants' weights. A session that gets the reset signal
 * mid-task starts its task over on a new session, which is what the README tells framework users
 * to do.
 */
export class DemoTraffic {
  private readonly stats = new Map<string, TenantTrafficStats>();
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private seq = 0;

  constructor(
    private readonly tenants: readonly TrafficTenant[],
    private readonly o: DemoTrafficOptions,
  ) {}

  start(): void {
    // Every worker's sleep listens on the one stop signal: dozens at once is expected.
    setMaxListeners(0, this.abort.signal);
    const total = this.tenants.reduce((s, t) => s + t.weight, 0) || 1;
    for (const t of this.tenants) {
      if (t.tasks.length === 0) continue;
      this.stats.set(t.tenantId, {
        sessions: 0,
        requests: 0,
        errors: 0,
        toolCalls: 0,
        resets: 0,
        restarts: 0,
        canarySessions: 0,
        failures: 0,
      });
      const rate = (this.o.sessionsPerSecond * t.weight) / total;
      for (let w = 0; w < (this.o.concurrencyPerTenant ?? 2); w++) {
        this.loops.push(this.loop(t, rate / (this.o.concurrencyPerTenant ?? 2), w));
      }
    }
  }

  snapshot(): Record<string, TenantTrafficStats> {
    return Object.fromEntries([...this.stats].map(([k, v]) => [k, { ...v }]));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  private async loop(t: TrafficTenant, perSecond: number, worker: number): Promise<void> {
    const s = this.stats.get(t.tenantId) as TenantTrafficStats;
    let i = worker;
    while (!this.abort.signal.aborted) {
      const started = performance.now();
      const task = t.tasks[i++ % t.tasks.length] as CaseSpec;
      try {
        let out = await this.session(t, task);
        if (out.reset && out.requests > 1) {
          s.restarts++;
          out = await this.session(t, task);
        }
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.o.onError?.(err);
      }
      // Exponential gaps: sessions arrive as a Poisson process at this worker's rate.
      const gapMs = (-Math.log(1 - Math.random()) * 1000) / Math.max(perSecond, 1e-6);
      const wait = gapMs - (performance.now() - started);
      if (wait > 0) await sleep(wait, this.abort.signal);
    }
  }

  private async session(t: TrafficTenant, task: CaseSpec): Promise<SessionOutcome> {
    const s = this.stats.get(t.tenantId) as TenantTrafficStats;
    const out = await runAgentSession(task, `demo-${t.tenantId}-${++this.seq}`, {
      gatewayUrl: this.o.gatewayUrl,
      apiKey: t.apiKey,
      channel: this.o.channel,
      // No shared abort signal on the requests: fetch leaves a listener on a long-lived signal per
      // request. A session is short; stop() lets the ones in flight finish.
    });
    s.sessions++;
    s.requests += out.requests;
    s.errors += out.errors;
    s.toolCalls += out.toolCalls;
    if (out.reset) s.resets++;
    if (out.cohort === 'canary') s.canarySessions++;
    if (!out.success) s.failures++;
    return out;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    // The listener goes when the timer fires too: a loop of sleeps must not pile them up.
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
