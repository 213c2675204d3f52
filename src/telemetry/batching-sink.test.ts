import { describe, expect, it } from 'vitest';
import { BatchingSink } from './batching-sink.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('BatchingSink', () => {
  it('writes in batches of at most batchSize, in order', async () => {
    const batches: number[][] = [];
    const sink = new BatchingSink<number>(async (b) => void batches.push(b), {
      capacity: 100,
      batchSize: 4,
      flushIntervalMs: 60_000,
    });
    for (let i = 0; i < 10; i++) sink.push(i);
    await sink.close();
    expect(batches.flat()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(batches.every((b) => b.length <= 4)).toBe(true);
    expect(sink.stats()).toMatchObject({ accepted: 10, written: 10, dropped: 0, buffered: 0 });
  });

  it('never blocks the producer: when the ring is full, drops and counts', async () => {
    const gate = deferred();
    const written: number[] = [];
    const sink = new BatchingSink<number>(
      async (b) => {
        await gate.promise;
        written.push(...b);
      },
      { capacity: 3, batchSize: 2, flushIntervalMs: 60_000 },
    );
    const flushing = (() => {
      sink.push(1);
      sink.push(2);
      return sink.flush(); // takes 1 and 2, then waits on the gate
    })();
    expect([sink.push(3), sink.push(4), sink.push(5), sink.push(6)]).toEqual([true, true, true, false]);
    expect(sink.stats()).toMatchObject({ accepted: 5, dropped: 1, buffered: 3 });
    gate.resolve();
    await flushing;
    await sink.close();
    expect(written).toEqual([1, 2, 3, 4, 5]);
  });

  it('counts a failed write as lost and keeps going', async () => {
    let fail = true;
    const errors: unknown[] = [];
    const sink = new BatchingSink<number>(
      async () => {
        if (fail) throw new Error('database gone');
      },
      { capacity: 10, batchSize: 10, flushIntervalMs: 60_000 },
      (e) => errors.push(e),
    );
    sink.push(1);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ failed: 1, lastError: 'database gone' });
    fail = false;
    sink.push(2);
    await sink.close();
    expect(sink.stats()).toMatchObject({ written: 1, lastError: null });
    expect(errors).toHaveLength(1);
  });
});
