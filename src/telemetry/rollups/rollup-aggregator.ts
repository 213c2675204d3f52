import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../../shared/clock.js';
import { UniqueViolation } from '../../storage/sql-database.js';
import type { JudgeScore, JudgeScoreSink } from '../judge-score.js';
import type { TelemetryObserver } from '../observed-store.js';
import type { TelemetryEvent } from '../telemetry-event.js';
import { acceptLatency, encodeSketch, type LatencySketch, newSketch } from './latency-sketch.js';
import {
  emptyCounts,
  MINUTE_MS,
  minuteOf,
  type RollupCohort,
  type RollupCounts,
  type RollupFlush,
  type RollupKey,
  type RollupRow,
  type RollupStore,
} from './rollup-types.js';

/** What the rollups need of a feedback report (the gateway's `FeedbackRecord` is one). */
export interface FeedbackReport {
  readonly atMs: number;
  readonly tenantId: string;
  readonly channel: string | null;
  readonly versionId: string | null;
  readonly cohort: 'stable' | 'canary' | null;
  readonly outcome: 'success' | 'failure' | null;
  readonly downstreamErrors: number;
}

export interface RollupAggregatorOptions {
  /** This process's identity in the rollup rows; unique per process start by default. */
  writerId?: string;
  /** How often closed minutes are written. */
  flushIntervalMs: number;
  /** A minute is closed this long after it ends (telemetry reaches the observer in batches). */
  graceMs: number;
  /** Open (unflushed) rows held at most; beyond it new data is dropped and counted. */
  maxOpenRows: number;
  /** Rows waiting for a failed write to succeed; beyond it the oldest flush is dropped and counted. */
  maxPendingRows: number;
}

export const DEFAULT_AGGREGATOR_OPTIONS: RollupAggregatorOptions = {
  flushIntervalMs: 10_000,
  graceMs: 5_000,
  maxOpenRows: 200_000,
  maxPendingRows: 500_000,
};

export interface RollupAggregatorStats {
  writerId: string;
  /** Telemetry events folded (including those whose raw write failed). */
  events: number;
  /** Of those, events whose raw write had failed (still counted in the rollups). */
  eventsRawUnstored: number;
  feedback: number;
  judgeScores: number;
  /** Events, feedback or scores for a minute this writer had already closed (written as a late delta;
   * a controller that already folded that minute does not see them). */
  late: number;
  /** Items dropped because `maxOpenRows` was reached. */
  droppedOpen: number;
  /** Items dropped because a pending flush was discarded (database down past `maxPendingRows`). */
  droppedPending: number;
  /** Judge scores dropped because the score was not a number. */
  droppedInvalid: number;
  openRows: number;
  pendingRows: number;
  rowsWritten: number;
  flushes: number;
  failedFlushes: number;
  lastFlushMs: number | null;
  closedThroughMs: number;
  lastError: string | null;
}

interface OpenRow {
  key: RollupKey;
  counts: RollupCounts;
  latency: LatencySketch | null;
  ttfb: LatencySketch | null;
  /** Items folded into this row (for the dropped counts if it is ever discarded). */
  items: number;
}

interface PendingFlush {
  flush: RollupFlush;
  items: number;
}

/** A request failed: a 5xx, or an error after a successful start (stream cut, invalid call). 4xx
 * answers are the client's (a bad request, a closed connection), not the model's. */
export function isFailedRequest(e: Pick<TelemetryEvent, 'status' | 'errorType'>): boolean {
  return e.status >= 500 || (e.status < 400 && e.errorType !== null);
}

/**
 * A canary request the candidate failed although the agent got an answer: stable answered after
 * the candidate's failure (`candidate_error`), or the candidate's breaker was open (`breaker_open`).
 * It is the candidate's failure (see RollupSignalSource: canary is whatever version answered), and
 * the controller must see it: a failure policy that hides it from agents must not hide it from the
 * rollback guard.
 */
export function isMaskedCandidateFailure(e: Pick<TelemetryEvent, 'cohort' | 'fallback'>): boolean {
  return e.cohort === 'canary' && (e.fallback === 'candidate_error' || e.fallback === 'breaker_open');
}

/**
 * Folds the telemetry stream, feedback reports and judge scores into per-minute rows keyed by
 * (minute, tenant, channel, version, cohort), in memory, and writes closed minutes every
 * `flushIntervalMs`, off the response path. Several gateway processes write the same minute: each
 * writes its own rows (`writerId`), and readers merge them, which sketches allow.
 *
 * Requests are placed in the minute they completed (arrival + latency), the moment their event
 * reaches the observer, so a minute closes `graceMs` after it ends with little left to arrive.
 * Anything arriving later is still written (as a further delta) and counted as `late`. A failed
 * write is retried with the same flush id on the next tick; nothing is discarded unless memory
 * bounds are hit, and then it is counted.
 */
export class RollupAggregator implements TelemetryObserver, JudgeScoreSink {
  readonly writerId: string;
  private readonly opts: RollupAggregatorOptions;
  private readonly open = new Map<string, OpenRow>();
  private pending: PendingFlush[] = [];
  private pendingRows = 0;
  private nextFlushId = 1;
  private closedThroughMs = 0;
  private flushing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly counts = {
    events: 0,
    eventsRawUnstored: 0,
    feedback: 0,
    judgeScores: 0,
    late: 0,
    droppedOpen: 0,
    droppedPending: 0,
    droppedInvalid: 0,
    rowsWritten: 0,
    flushes: 0,
    failedFlushes: 0,
  };
  private lastFlushMs: number | null = null;
  private lastError: string | null = null;

  constructor(
    private readonly store: RollupStore,
    private readonly clock: Clock,
    opts: Partial<RollupAggregatorOptions> = {},
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.opts = { ...DEFAULT_AGGREGATOR_OPTIONS, ...opts };
    this.writerId = opts.writerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.timer = setInterval(() => void this.flush(), this.opts.flushIntervalMs).unref();
  }

  /** TelemetryObserver: every batch the gateway's sink wrote (or failed to write). */
  observe(batch: readonly TelemetryEvent[], stored: boolean): void {
    for (const e of batch) {
      // Whole milliseconds: latency is fractional (performance.now) and last_event_ms is a BIGINT
      // on PostgreSQL, which refuses "1795657314788.8005" and with it the whole flush.
      const done = e.atMs + Math.max(0, Math.round(e.latencyMs));
      const row = this.rowFor(done, e.tenantId, e.channel, e.versionId, e.cohort);
      if (!row) continue;
      this.counts.events++;
      if (!stored) this.counts.eventsRawUnstored++;
      const c = row.counts;
      c.requests++;
      if (isFailedRequest(e) || isMaskedCandidateFailure(e)) c.errors++;
      c.toolCallsChecked += e.toolCallsChecked;
      c.toolCallsInvalid += e.toolCallsInvalid;
      for (const kind of e.invalidKinds) c.invalidKinds[kind] = (c.invalidKinds[kind] ?? 0) + 1;
      c.toolCallsCoerced += e.toolCallsCoerced;
      if (e.formatValid !== null) {
        c.formatChecked++;
        if (e.formatValid) c.formatValid++;
      }
      row.latency ??= newSketch();
      acceptLatency(row.latency, e.latencyMs);
      if (e.ttfbMs !== null) {
        row.ttfb ??= newSketch();
        acceptLatency(row.ttfb, e.ttfbMs);
      }
      if (c.lastEventMs === null || done > c.lastEventMs) c.lastEventMs = done;
    }
  }

  /** A feedback report, after the feedback store accepted it. Never throws, never waits. */
  recordFeedback(r: FeedbackReport): void {
    const row = this.rowFor(r.atMs, r.tenantId, r.channel, r.versionId, r.cohort);
    if (!row) return;
    this.counts.feedback++;
    const c = row.counts;
    if (r.outcome !== null) {
      c.tasksReported++;
      if (r.outcome === 'failure') c.tasksFailed++;
    }
    c.downstreamReports++;
    if (r.downstreamErrors > 0) {
      c.downstreamErrorReports++;
      c.downstreamErrors += r.downstreamErrors;
    }
    if (c.lastEventMs === null || r.atMs > c.lastEventMs) c.lastEventMs = r.atMs;
  }

  /** JudgeScoreSink: one judged candidate/stable pair, kept under the candidate version. */
  record(s: JudgeScore): void {
    if (!Number.isFinite(s.score)) {
      this.counts.droppedInvalid++;
      return;
    }
    const cohort: RollupCohort = s.source === 'canary' ? 'canary' : 'shadow';
    const row = this.rowFor(s.atMs, s.tenantId, s.channel, s.candidateVersionId, cohort);
    if (!row) return;
    this.counts.judgeScores++;
    const score = Math.min(1, Math.max(0, s.score));
    row.counts.judgeN++;
    row.counts.judgeSum += score;
    row.counts.judgeSumSq += score * score;
  }

  /**
   * Writes every closed minute (all of them with `all`, on shutdown) and retries earlier failed
   * writes. One flush runs at a time; failures are counted and reported, never thrown.
   */
  flush(all = false): Promise<void> {
    if (this.flushing) return all ? this.flushing.then(() => this.flush(true)) : this.flushing;
    this.flushing = this.doFlush(all).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  stats(): RollupAggregatorStats {
    return {
      writerId: this.writerId,
      ...this.counts,
      openRows: this.open.size,
      pendingRows: this.pendingRows,
      lastFlushMs: this.lastFlushMs,
      closedThroughMs: this.closedThroughMs,
      lastError: this.lastError,
    };
  }

  /** Stops the timer and writes everything held, including the current minute. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush(true);
  }

  private rowFor(
    atMs: number,
    tenantId: string,
    channel: string | null,
    versionId: string | null,
    cohort: RollupCohort | null,
  ): OpenRow | null {
    const minuteMs = minuteOf(atMs);
    const id = `${minuteMs}\u0000${tenantId}\u0000${channel ?? ''}\u0000${versionId ?? ''}\u0000${cohort ?? ''}`;
    let row = this.open.get(id);
    if (!row) {
      if (this.open.size >= this.opts.maxOpenRows) {
        this.counts.droppedOpen++;
        return null;
      }
      row = {
        key: { minuteMs, tenantId, channel: channel ?? '', versionId: versionId ?? '', cohort: cohort ?? '' },
        counts: emptyCounts(),
        latency: null,
        ttfb: null,
        items: 0,
      };
      this.open.set(id, row);
    }
    if (minuteMs < this.closedThroughMs) this.counts.late++;
    row.items++;
    return row;
  }

  private async doFlush(all: boolean): Promise<void> {
    const now = this.clock.now();
    const closeBefore = all ? Number.POSITIVE_INFINITY : minuteOf(now - this.opts.graceMs);
    const rows: RollupRow[] = [];
    let items = 0;
    let newestEnd = this.closedThroughMs;
    const flushId = this.nextFlushId++;
    for (const [id, r] of this.open) {
      if (r.key.minuteMs >= closeBefore) continue;
      this.open.delete(id);
      rows.push({
        ...r.key,
        ...r.counts,
        writerId: this.writerId,
        flushId,
        latency: r.latency ? encodeSketch(r.latency) : null,
        ttfb: r.ttfb ? encodeSketch(r.ttfb) : null,
      });
      items += r.items;
      newestEnd = Math.max(newestEnd, r.key.minuteMs + MINUTE_MS);
    }
    const closedThroughMs = Math.max(this.closedThroughMs, all ? newestEnd : closeBefore);
    this.closedThroughMs = closedThroughMs;
    // A heartbeat-only flush (no rows) still tells readers this writer is alive and current.
    this.enqueue({ flush: { writerId: this.writerId, flushId, rows, closedThroughMs, atMs: now }, items });
    while (this.pending.length > 0) {
      const next = this.pending[0] as PendingFlush;
      try {
        await this.store.append(next.flush);
      } catch (err) {
        // The same flush id was committed by an earlier attempt whose acknowledgement was lost.
        if (!(err instanceof UniqueViolation)) {
          this.counts.failedFlushes++;
          this.lastError = err instanceof Error ? err.message : String(err);
          this.onError(err);
          return;
        }
      }
      this.pending.shift();
      this.pendingRows -= next.flush.rows.length;
      this.counts.rowsWritten += next.flush.rows.length;
      this.counts.flushes++;
      this.lastFlushMs = next.flush.atMs;
      this.lastError = null;
    }
  }

  private enqueue(p: PendingFlush): void {
    // Heartbeats waiting behind a failure add nothing: the newest one says all they would.
    this.pending = this.pending.filter((q) => q.flush.rows.length > 0);
    this.pending.push(p);
    this.pendingRows += p.flush.rows.length;
    while (this.pendingRows > this.opts.maxPendingRows && this.pending.length > 1) {
      const dropped = this.pending.shift() as PendingFlush;
      this.pendingRows -= dropped.flush.rows.length;
      this.counts.droppedPending += dropped.items;
    }
  }
}
