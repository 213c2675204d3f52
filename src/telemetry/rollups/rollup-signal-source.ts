import type { DataSourceStatus } from '../../guard/guards.js';
import type { CohortQuery, SignalSource } from '../../guard/signal-source.js';
import type { CohortCounts, LatencyQuantiles, LatencyWindow, RollupBucket } from '../../guard/signals.js';
import type { Clock } from '../../shared/clock.js';
import { decodeSketch, type LatencySketch, mergeInto, newSketch } from './latency-sketch.js';
import { MINUTE_MS, type RollupRow, type RollupStore, type RollupWriterState } from './rollup-types.js';

export interface RollupSignalSourceOptions {
  /** A writer whose heartbeat is older than this is gone (stopped or crashed) and not waited for. */
  writerTimeoutMs: number;
  /** The rollups are stale when no live writer has closed a minute ending within this long. */
  staleAfterMs: number;
}

export const DEFAULT_SIGNAL_SOURCE_OPTIONS: RollupSignalSourceOptions = {
  writerTimeoutMs: 2 * MINUTE_MS,
  staleAfterMs: 3 * MINUTE_MS,
};

interface MutableCohort {
  requests: { trials: number; events: number };
  toolCalls: { trials: number; events: number };
  toolFailureKinds: Record<string, number>;
  coercions: { trials: number; events: number };
  tasks: { trials: number; events: number };
  downstream: { trials: number; events: number };
  lastEventAtMs: number | null;
}

function emptyMutable(): MutableCohort {
  return {
    requests: { trials: 0, events: 0 },
    toolCalls: { trials: 0, events: 0 },
    toolFailureKinds: {},
    coercions: { trials: 0, events: 0 },
    tasks: { trials: 0, events: 0 },
    downstream: { trials: 0, events: 0 },
    lastEventAtMs: null,
  };
}

function fold(c: MutableCohort, r: RollupRow): void {
  c.requests.trials += r.requests;
  c.requests.events += r.errors;
  c.toolCalls.trials += r.toolCallsChecked;
  c.toolCalls.events += r.toolCallsInvalid;
  for (const [kind, n] of Object.entries(r.invalidKinds))
    c.toolFailureKinds[kind] = (c.toolFailureKinds[kind] ?? 0) + n;
  c.coercions.trials += r.toolCallsChecked;
  c.coercions.events += r.toolCallsCoerced;
  c.tasks.trials += r.tasksReported;
  c.tasks.events += r.tasksFailed;
  c.downstream.trials += r.downstreamReports;
  c.downstream.events += r.downstreamErrorReports;
  if (r.lastEventMs !== null && (c.lastEventAtMs === null || r.lastEventMs > c.lastEventAtMs)) {
    c.lastEventAtMs = r.lastEventMs;
  }
}

/**
 * Canary = the sessions routed to the candidate, whichever version answered: a candidate answer
 * that broke the contract and was replaced by stable's (failure policy `fallback`), or a request
 * sent to stable while the candidate's breaker was open, is still the candidate's failure, and
 * leaving it out would hide exactly the regressions fallback protects agents from. (The read is
 * limited to the two versions of the comparison.)
 */
const isCanary = (_q: CohortQuery, r: RollupRow) => r.cohort === 'canary';
const isControl = (q: CohortQuery, r: RollupRow) =>
  r.versionId === q.stableVersionId && r.cohort === 'stable';

/**
 * The rollback controller's signals, read from the per-minute rollups (the data the metrics API
 * and the dashboard show). Canary is the candidate version's canary cohort, control the stable
 * version's stable cohort, of the same tenant and channel over the same minutes; judge moments are
 * the candidate's judged pairs (canary and shadow).
 *
 * A minute is settled once every live writer's heartbeat says it has flushed it, so a bucket is
 * only returned complete; settled minutes without traffic are returned empty, so the controller
 * can tell a quiet cohort (its own staleness check) from a stalled pipeline (`status`).
 *
 * `status` is synchronous, so it reports what the most recent read found: unavailable since the
 * first of a run of failed reads, or when no live writer has closed a recent minute.
 */
export class RollupSignalSource implements SignalSource {
  private readonly opts: RollupSignalSourceOptions;
  private failingSinceMs: number | null = null;
  private lastFailure = '';
  private settledThroughMs: number | null = null;
  private readonly createdMs: number;
  /** When the writers were last read (the source's clock); its creation before the first read. */
  private lastReadMs: number;
  /** After a gap in the reads: writers alive when it began are waited for until `untilMs`. */
  private gap: { aliveSinceMs: number; untilMs: number } | null = null;

  constructor(
    private readonly store: RollupStore,
    private readonly clock: Clock,
    opts: Partial<RollupSignalSourceOptions> = {},
  ) {
    this.opts = { ...DEFAULT_SIGNAL_SOURCE_OPTIONS, ...opts };
    this.createdMs = clock.now();
    this.lastReadMs = this.createdMs;
  }

  async buckets(q: CohortQuery): Promise<RollupBucket[]> {
    const fromMs = Math.ceil(q.fromMs / MINUTE_MS) * MINUTE_MS;
    const { rows, settledThroughMs } = await this.guarded(async () => {
      const writers = await this.store.writers();
      const settled = this.settledFrom(writers);
      const toMs = Math.min(q.toMs, settled ?? fromMs);
      const rows =
        toMs > fromMs
          ? await this.store.read({
              tenantId: q.tenantId,
              channel: q.channel,
              fromMs,
              toMs,
              versionIds: [...new Set([q.candidateVersionId, q.stableVersionId])],
            })
          : [];
      return { rows, settledThroughMs: settled };
    });
    const endMs = Math.min(q.toMs, settledThroughMs ?? fromMs);
    const byMinute = new Map<number, { canary: MutableCohort; control: MutableCohort; judge: number[] }>();
    for (let m = fromMs; m + MINUTE_MS <= endMs; m += MINUTE_MS) {
      byMinute.set(m, { canary: emptyMutable(), control: emptyMutable(), judge: [0, 0, 0] });
    }
    for (const r of rows) {
      const b = byMinute.get(r.minuteMs);
      if (!b) continue;
      if (isCanary(q, r)) fold(b.canary, r);
      else if (isControl(q, r)) fold(b.control, r);
      if (r.versionId === q.candidateVersionId && r.judgeN > 0) {
        b.judge[0] = (b.judge[0] as number) + r.judgeN;
        b.judge[1] = (b.judge[1] as number) + r.judgeSum;
        b.judge[2] = (b.judge[2] as number) + r.judgeSumSq;
      }
    }
    return [...byMinute.entries()].map(([startMs, b]) => ({
      startMs,
      endMs: startMs + MINUTE_MS,
      canary: b.canary as CohortCounts,
      control: b.control as CohortCounts,
      judge: { n: b.judge[0] as number, sum: b.judge[1] as number, sumSq: b.judge[2] as number },
    }));
  }

  async latency(q: CohortQuery): Promise<LatencyWindow | null> {
    const rows = await this.guarded(() =>
      this.store.read({
        tenantId: q.tenantId,
        channel: q.channel,
        fromMs: Math.floor(q.fromMs / MINUTE_MS) * MINUTE_MS,
        toMs: q.toMs,
        versionIds: [...new Set([q.candidateVersionId, q.stableVersionId])],
      }),
    );
    const canary = newSketch();
    const control = newSketch();
    for (const r of rows) {
      if (r.latency === null) continue;
      if (isCanary(q, r)) mergeInto(canary, decodeSketch(r.latency));
      else if (isControl(q, r)) mergeInto(control, decodeSketch(r.latency));
    }
    if (canary.count === 0 && control.count === 0) return null;
    return { fromMs: q.fromMs, toMs: q.toMs, canary: quantiles(canary), control: quantiles(control) };
  }

  status(nowMs: number): DataSourceStatus {
    if (this.failingSinceMs !== null) {
      return {
        kind: 'unavailable',
        sinceMs: this.failingSinceMs,
        detail: `rollups could not be read: ${this.lastFailure}`,
      };
    }
    if (this.settledThroughMs === null) {
      return {
        kind: 'unavailable',
        sinceMs: this.createdMs,
        detail: 'no live rollup writer has reported (no gateway is flushing telemetry rollups)',
      };
    }
    const staleSince = this.settledThroughMs + this.opts.staleAfterMs;
    if (nowMs > staleSince) {
      return {
        kind: 'unavailable',
        sinceMs: staleSince,
        detail: `rollups are stale: settled through ${new Date(this.settledThroughMs).toISOString()}`,
      };
    }
    return { kind: 'available' };
  }

  /** Reads the writers' heartbeats now (for a `status` before any other read). */
  async refresh(): Promise<void> {
    await this.guarded(async () => this.settledFrom(await this.store.writers()));
  }

  /** The end of the newest minute every live writer has flushed; null when no writer is live. */
  private settledFrom(writers: readonly RollupWriterState[]): number | null {
    const now = this.clock.now();
    const timeout = this.opts.writerTimeoutMs;
    // A writer silent for the timeout is gone, but only if this source watched it fall silent. After
    // a gap in the reads longer than the timeout (the database was away, for the writers too; or a
    // controller that never read takes the lead after it), a writer that was alive when the gap
    // began may simply not have flushed yet: the first writer back must not settle minutes the
    // others still hold. It is waited for one more timeout.
    if (now - this.lastReadMs > timeout) {
      this.gap = { aliveSinceMs: this.lastReadMs - timeout, untilMs: now + timeout };
    }
    this.lastReadMs = now;
    const live = writers.filter((w) => w.lastFlushMs >= now - timeout);
    const gap = this.gap && now < this.gap.untilMs ? this.gap : null;
    const waitedFor = gap
      ? writers.filter((w) => w.lastFlushMs < now - timeout && w.lastFlushMs >= gap.aliveSinceMs)
      : [];
    const settled =
      live.length > 0 ? Math.min(...[...live, ...waitedFor].map((w) => w.closedThroughMs)) : null;
    this.settledThroughMs = settled;
    return settled;
  }

  private async guarded<T>(read: () => Promise<T>): Promise<T> {
    try {
      const out = await read();
      this.failingSinceMs = null;
      return out;
    } catch (err) {
      this.failingSinceMs ??= this.clock.now();
      this.lastFailure = err instanceof Error ? err.message : String(err);
      throw err;
    }
  }
}

function quantiles(s: LatencySketch): LatencyQuantiles {
  return s.count > 0
    ? { count: s.count, p50Ms: s.getValueAtQuantile(0.5), p99Ms: s.getValueAtQuantile(0.99) }
    : { count: 0, p50Ms: 0, p99Ms: 0 };
}
