import type { RunStore } from './bets-store.js';
import type { AttemptResult } from './run-types.js';

export interface ResultWriterOptions {
  /** Results written in one transaction at most. */
  maxBatch: number;
  /** Longest a result waits to be written. */
  maxDelayMs: number;
}

export const DEFAULT_RESULT_BATCH: ResultWriterOptions = { maxBatch: 100, maxDelayMs: 100 };

interface Pending {
  result: AttemptResult;
  onStored: (r: AttemptResult) => void;
  onFailure: (e: unknown) => void;
}

/**
 * Writes results in small batches, one transaction each, shared by every run of the process: a
 * commit per result cost more CPU than everything else a case needs (measured: ~140 µs per
 * SQLite commit in WAL mode), and in a fleet run each tenant's run alone yields only a couple of
 * results per second, so batches form across runs. A result waits at most `maxDelayMs`; a
 * graceful stop flushes, so only a crash can lose the last few, which resume executes again.
 * Writes are ordered; a failed batch is reported to each of its results' runs.
 */
export class ResultWriter {
  private buffer: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: RunStore,
    private readonly opts: ResultWriterOptions = DEFAULT_RESULT_BATCH,
  ) {}

  add(result: AttemptResult, onStored: (r: AttemptResult) => void, onFailure: (e: unknown) => void): void {
    this.buffer.push({ result, onStored, onFailure });
    if (this.buffer.length >= this.opts.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.opts.maxDelayMs);
  }

  /** Writes everything added so far; resolves when it is written (failures go to their runs). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    if (batch.length === 0) return this.chain;
    this.buffer = [];
    this.chain = this.chain.then(() =>
      this.store.putResults(batch.map((p) => p.result)).then(
        () => {
          for (const p of batch) p.onStored(p.result);
        },
        (e: unknown) => {
          for (const p of batch) p.onFailure(e);
        },
      ),
    );
    return this.chain;
  }
}
