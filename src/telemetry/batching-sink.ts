export interface BatchingOptions {
  /** Items held at most; beyond it new items are dropped and counted (never block, never grow). */
  capacity: number;
  /** Items per write; reaching it triggers a write without waiting for the timer. */
  batchSize: number;
  /** Longest an item waits before it is written. */
  flushIntervalMs: number;
}

export interface SinkStats {
  accepted: number;
  /** Dropped because the buffer was full. */
  dropped: number;
  written: number;
  /** Lost because their write failed. */
  failed: number;
  buffered: number;
  lastError: string | null;
}

/**
 * Hands items to a slow writer without ever making the producer wait: a fixed ring buffer,
 * written in batches every `flushIntervalMs` or as soon as `batchSize` items are waiting. One
 * write runs at a time. When the writer cannot keep up and the ring is full, new items are
 * dropped and counted: losing some telemetry is better than slowing or growing the gateway.
 */
export class BatchingSink<T> {
  private readonly ring: Array<T | undefined>;
  private head = 0;
  private size = 0;
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private readonly timer: NodeJS.Timeout;
  private readonly counts = { accepted: 0, dropped: 0, written: 0, failed: 0 };
  private lastError: string | null = null;

  constructor(
    private readonly write: (batch: T[]) => Promise<void>,
    private readonly opts: BatchingOptions,
    private readonly onError?: (err: unknown) => void,
  ) {
    this.ring = new Array<T | undefined>(opts.capacity);
    this.timer = setInterval(() => void this.flush(), opts.flushIntervalMs).unref();
  }

  /** Queues an item; false when it was dropped. Never throws, never waits. */
  push(item: T): boolean {
    if (this.size === this.opts.capacity) {
      this.counts.dropped++;
      return false;
    }
    this.ring[(this.head + this.size) % this.opts.capacity] = item;
    this.size++;
    this.counts.accepted++;
    if (this.size >= this.opts.batchSize && !this.scheduled && !this.flushing) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
    }
    return true;
  }

  /** Writes everything buffered now; resolves when done (failures are counted, not thrown). */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.size === 0) return Promise.resolve();
    this.flushing = this.drain().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  stats(): SinkStats {
    return { ...this.counts, buffered: this.size, lastError: this.lastError };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    // A write in progress during close may have left items that arrived meanwhile.
    if (this.size > 0) await this.flush();
  }

  private async drain(): Promise<void> {
    while (this.size > 0) {
      const n = Math.min(this.size, this.opts.batchSize);
      const batch = new Array<T>(n);
      for (let i = 0; i < n; i++) {
        const at = (this.head + i) % this.opts.capacity;
        batch[i] = this.ring[at] as T;
        this.ring[at] = undefined;
      }
      this.head = (this.head + n) % this.opts.capacity;
      this.size -= n;
      try {
        await this.write(batch);
        this.counts.written += n;
        this.lastError = null;
      } catch (e) {
        this.counts.failed += n;
        this.lastError = e instanceof Error ? e.message : String(e);
        this.onError?.(e);
        return;
      }
    }
  }
}
