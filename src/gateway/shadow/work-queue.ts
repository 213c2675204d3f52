export interface WorkQueueStats {
  accepted: number;
  /** Refused because the queue was full. */
  dropped: number;
  completed: number;
  failed: number;
  queued: number;
  running: number;
}

/**
 * A bounded queue with a fixed number of workers. `offer` never waits: when the queue is full the
 * job is dropped and counted, so extra work can never slow down or grow the process.
 */
export class BoundedWorkQueue<J> {
  private readonly queue: J[] = [];
  private running = 0;
  private closed = false;
  private readonly counts = { accepted: 0, dropped: 0, completed: 0, failed: 0 };
  private idle: Array<() => void> = [];

  constructor(
    private readonly run: (job: J) => Promise<void>,
    private readonly opts: { capacity: number; concurrency: number },
  ) {}

  offer(job: J): boolean {
    if (this.closed || this.queue.length >= this.opts.capacity) {
      this.counts.dropped++;
      return false;
    }
    this.counts.accepted++;
    this.queue.push(job);
    this.pump();
    return true;
  }

  stats(): WorkQueueStats {
    return { ...this.counts, queued: this.queue.length, running: this.running };
  }

  /** Resolves when nothing is queued or running (tests; shutdown). */
  whenIdle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Stops accepting; queued jobs are dropped (counted), running ones are awaited. */
  async close(): Promise<void> {
    this.closed = true;
    this.counts.dropped += this.queue.length;
    this.queue.length = 0;
    await this.whenIdle();
  }

  private pump(): void {
    while (this.running < this.opts.concurrency && this.queue.length > 0) {
      const job = this.queue.shift() as J;
      this.running++;
      this.run(job).then(
        () => this.done(true),
        () => this.done(false),
      );
    }
  }

  private done(ok: boolean): void {
    this.running--;
    if (ok) this.counts.completed++;
    else this.counts.failed++;
    this.pump();
    if (this.running === 0 && this.queue.length === 0) {
      const waiting = this.idle;
      this.idle = [];
      for (const w of waiting) w();
    }
  }
}
