import { describe, expect, it, vi } from 'vitest';
import { ManualClock, ScaledClock } from './clock.js';

describe('clocks', () => {
  it('a scaled clock moves factor times faster than real time from its origin', () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
    try {
      const clock = new ScaledClock(600, Date.UTC(2030, 0, 1));
      expect(clock.now()).toBe(Date.UTC(2030, 0, 1));
      vi.advanceTimersByTime(6_000);
      expect(clock.now()).toBe(Date.UTC(2030, 0, 1) + 3_600_000);
      expect(() => new ScaledClock(0)).toThrow(RangeError);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a manual clock moves only when told', () => {
    const clock = new ManualClock(1000);
    clock.advance(500);
    expect(clock.now()).toBe(1500);
    clock.set(42);
    expect(clock.now()).toBe(42);
  });
});
