import type { SinkStats } from './batching-sink.js';
import type { TelemetryEvent, TelemetryEventStore } from './telemetry-event.js';

export interface RetryingEventStoreOptions {
  /** Events kept for retry at most; beyond it the oldest batches are dropped and counted. */
  maxBacklogEvents: number;
  /** How often the backlog is retried while the database is away. */
  retryIntervalMs: number;
}

export const DEFAULT_RETRYING_EVENT_STORE_OPTIONS: RetryingEventStoreOptions = {
  maxBacklogEvents: 200_000,
  retryIntervalMs: 1_000,
};

export interface RetryingEventStoreStats {
  /** Events waiting for the database. */
  backlog: number;
  /** Events written on a retry (they would have been lost without it). */
  retried: number;
  /** Events dropped because the backlog was full. */
  dropped: number;
  /** Writes that failed (each kept its batch for retry). */
  failedWrites: number;
  lastError: string | null;
}

/**
 * Keeps the telemetry events whose write failed and writes them when the database is back, in
 * order, so an outage of the database loses no event (up to `maxBacklogEvents`; beyond that the
 * oldest are dropped and counted). It goes between the SQL event store and the observers
 * (`new ObservedTelemetryStore(new RetryingTelemetryEventStore(sql))`): a batch is accepted once,
 * so the rollups, metrics and traces see each event exactly once, and only the raw write is
 * retried. While a backlog is waiting, new batches queue behind it and the backlog is retried once
 * per `retryIntervalMs`, so a database that is away is not hammered. A write whose acknowledgement was lost may be repeated: events are written at
 * least once.
 */
export class RetryingTelemetryEventStore implements TelemetryEventStore {
  private readonly opts: RetryingEventStoreOptions;
  private backlog: TelemetryEvent[][] = [];
  private backlogEvents = 0;
  private draining: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly counts = { retried: 0, dropped: 0, failedWrites: 0 };
  private lastError: string | null = null;

  constructor(
    private readonly inner: TelemetryEventStore,
    opts: Partial<RetryingEventStoreOptions> = {},
    /** Told of the first failed write of each outage. */
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.opts = { ...DEFAULT_RETRYING_EVENT_STORE_OPTIONS, ...opts };
    this.timer = setInterval(() => void this.drain(), this.opts.retryIntervalMs).unref();
  }

  /** Writes the batch, or keeps it for retry; never rejects. */
  async append(events: readonly TelemetryEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (this.backlog.length > 0) {
      // Behind the backlog, in order; the timer retries (one attempt per interval, not per batch).
      this.keep(events);
      return;
    }
    try {
      await this.inner.append(events);
    } catch (err) {
      this.failed(err);
      this.keep(events);
    }
  }

  /** Retries the backlog now, oldest first; resolves when it is empty or a write failed. */
  drain(): Promise<void> {
    if (this.draining) return this.draining;
    if (this.backlog.length === 0) return Promise.resolve();
    this.draining = this.writeBacklog().finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  stats(): RetryingEventStoreStats {
    return { backlog: this.backlogEvents, ...this.counts, lastError: this.lastError };
  }

  /** Stops retrying on a timer after one last attempt (shutdown: after the gateway's last batch). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.drain();
  }

  private keep(events: readonly TelemetryEvent[]): void {
    this.backlog.push([...events]);
    this.backlogEvents += events.length;
    while (this.backlogEvents > this.opts.maxBacklogEvents && this.backlog.length > 0) {
      const oldest = this.backlog.shift() as TelemetryEvent[];
      this.backlogEvents -= oldest.length;
      this.counts.dropped += oldest.length;
    }
  }

  private async writeBacklog(): Promise<void> {
    while (this.backlog.length > 0) {
      const batch = this.backlog[0] as TelemetryEvent[];
      try {
        await this.inner.append(batch);
      } catch (err) {
        this.failed(err);
        return;
      }
      if (this.backlog[0] === batch) {
        this.backlog.shift();
        this.backlogEvents -= batch.length;
      } else {
        // Trimmed (counted as dropped) while its write was in flight, which then succeeded.
        this.counts.dropped -= batch.length;
      }
      this.counts.retried += batch.length;
      this.lastError = null;
    }
  }

  /** Counts every failed write; reports the first of a run (one report per outage, not per retry). */
  private failed(err: unknown): void {
    this.counts.failedWrites++;
    if (this.lastError === null) this.onError(err);
    this.lastError = err instanceof Error ? err.message : String(err);
  }
}

/**
 * The batching sink's counts seen through the retrying store beneath it: the sink counts a batch
 * written once the retrying store took it, so events still waiting in its backlog are reported as
 * buffered, and those its backlog had to drop as dropped, never as written.
 */
export function sinkStatsWithBacklog(sink: SinkStats, retry: RetryingEventStoreStats): SinkStats {
  return {
    ...sink,
    written: sink.written - retry.backlog - retry.dropped,
    dropped: sink.dropped + retry.dropped,
    buffered: sink.buffered + retry.backlog,
    lastError: sink.lastError ?? retry.lastError,
  };
}
