import { describe, expect, it } from 'vitest';
import { BoundedWorkQueue } from './work-queue.js';

describe('BoundedWorkQueue', () => {
  it('runs at most `concurrency` jobs, queues up to `capacity`, drops and counts the rest', async () => {
    const releases: Array<() => void> = [];
    let maxRunning = 0;
    const q = new BoundedWorkQueue<number>(
      () =>
        new Promise<void>((r) => {
          releases.push(r);
          maxRunning = Math.max(maxRunning, q.stats().running);
        }),
      { capacity: 2, concurrency: 1 },
    );
    const offered = [1, 2, 3, 4, 5].map((j) => q.offer(j));
    expect(offered).toEqual([true, true, true, false, false]);
    expect(q.stats()).toMatchObject({ accepted: 3, dropped: 2, running: 1, queued: 2 });
    while (releases.length > 0 || q.stats().running > 0) {
      releases.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await q.whenIdle();
    expect(q.stats()).toMatchObject({ completed: 3, failed: 0, running: 0, queued: 0 });
    expect(maxRunning).toBe(1);
  });

  it('counts failed jobs and drops queued jobs on close', async () => {
    const q = new BoundedWorkQueue<number>(
      async (j) => {
        if (j === 1) throw new Error('no');
        await new Promise((r) => setTimeout(r, 1));
      },
      { capacity: 5, concurrency: 1 },
    );
    q.offer(1);
    q.offer(2);
    q.offer(3);
    await new Promise((r) => setImmediate(r));
    await q.close();
    expect(q.stats().failed).toBe(1);
    expect(q.stats().completed + q.stats().dropped).toBe(2);
    expect(q.offer(4)).toBe(false);
  });
});
