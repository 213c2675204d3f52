import type { Clock } from '../../shared/clock.js';

/**
 * A clock `factor` times faster than real time from a shared origin: every process (and the test)
 * that makes one with the same origin and factor reads the same time, whenever it started.
 * (`ScaledClock` counts from its own creation, so two processes would disagree.)
 */
export class SharedScaledClock implements Clock {
  constructor(
    private readonly factor: number,
    private readonly epochMs: number,
  ) {
    if (!(factor >= 1)) throw new RangeError('a shared scaled clock needs a factor of at least 1');
  }

  now(): number {
    return this.epochMs + Math.floor((Date.now() - this.epochMs) * this.factor);
  }

  /** The clock's time at real time `realMs`. */
  at(realMs: number): number {
    return this.epochMs + Math.floor((realMs - this.epochMs) * this.factor);
  }
}
