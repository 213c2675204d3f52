import { describe, expect, it } from 'vitest';
import { ManualClock } from '../shared/clock.js';
import { AbortedError, Semaphore, TokenBucket } from './rate-limit.js';

/** A scheduler the test drives: nothing waits on real time. */
function manual(clock: ManualClock) {
  const pending: { at: number; fn: () => void; cancelled: boolean }[] = [];
  return {
    schedule: (fn: () => void, ms: number) => {
      const t = { at: clock.now() + ms, fn, cancelled: false };
      pending.push(t);
      return { cancel: () => (t.cancelled = true) };
    },
    /** Moves time forward, firing what falls due (in order). */
    advance(ms: number) {
      const end = clock.now() + ms;
      for (;;) {
        pending.sort((a, b) => a.at - b.at);
        const next = pending.find((t) => !t.cancelled && t.at <= end);
        if (!next) break;
        pending.splice(pending.indexOf(next), 1);
        clock.set(next.at);
        next.fn();
      }
      clock.set(end);
    },
  };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('TokenBucket', () => {
  it('allows a burst, then one request per 1/rate, in arrival order', async () => {
    const clock = new ManualClock(0);
    const s = manual(clock);
    const bucket = new TokenBucket(10, 2, clock, s.schedule);
    const granted: number[] = [];
    for (let i = 0; i < 5; i++) void bucket.acquire().then(() => granted.push(i));
    await flush();
    expect(granted).toEqual([0, 1]);
    s.advance(99);
    await flush();
    expect(granted).toEqual([0, 1]);
    s.advance(1);
    await flush();
    expect(granted).toEqual([0, 1, 2]);
    s.advance(200);
    await flush();
    expect(granted).toEqual([0, 1, 2, 3, 4]);
  });

  it('pauses every caller until a Retry-After ends', async () => {
    const clock = new ManualClock(0);
    const s = manual(clock);
    const bucket = new TokenBucket(100, 5, clock, s.schedule);
    bucket.pauseUntil(1000);
    let got = false;
    void bucket.acquire().then(() => (got = true));
    s.advance(999);
    await flush();
    expect(got).toBe(false);
    s.advance(1);
    await flush();
    expect(got).toBe(true);
  });

  it('drops a waiter whose signal aborts', async () => {
    const clock = new ManualClock(0);
    const s = manual(clock);
    const bucket = new TokenBucket(1, 1, clock, s.schedule);
    await bucket.acquire();
    const ctrl = new AbortController();
    const waiting = bucket.acquire(ctrl.signal);
    expect(bucket.waiting).toBe(1);
    ctrl.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    expect(bucket.waiting).toBe(0);
  });
});

describe('Semaphore', () => {
  it('holds at most `size` at once and hands slots over in order', async () => {
    const sem = new Semaphore(2);
    const a = await sem.acquire();
    await sem.acquire();
    const order: string[] = [];
    void sem.acquire().then(() => order.push('c'));
    void sem.acquire().then(() => order.push('d'));
    await flush();
    expect(order).toEqual([]);
    a();
    a();
    await flush();
    expect(order).toEqual(['c']);
  });
});

describe('Semaphore priorities', () => {
  it('serves lower priority numbers first, arrival order within one', async () => {
    const sem = new Semaphore(1);
    const release = await sem.acquire();
    const order: string[] = [];
    void sem.acquire(5).then((r) => {
      order.push('late-run');
      r();
    });
    void sem.acquire(1).then((r) => {
      order.push('early-run-a');
      r();
    });
    void sem.acquire(1).then((r) => {
      order.push('early-run-b');
      r();
    });
    release();
    await flush();
    expect(order).toEqual(['early-run-a', 'early-run-b', 'late-run']);
  });
});
