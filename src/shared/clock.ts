/**
 * Time comes from a clock so that the control plane, key expiry and tests can run on a fake or
 * accelerated timeline (a 21-day upgrade in seconds). Production uses the system clock.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to; for tests and simulations. */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(ms: number): void {
    this.current = ms;
  }
}

/**
 * A clock that runs `factor` times faster than real time from the moment it is made: the demo's
 * control plane lives three weeks of an upgrade in minutes. Timers stay real; only what the clock
 * reports is scaled.
 */
export class ScaledClock implements Clock {
  private readonly realStart = Date.now();
  constructor(
    private readonly factor: number,
    private readonly origin = Date.now(),
  ) {
    if (!(factor > 0)) throw new RangeError('a scaled clock needs a factor above 0');
  }
  now(): number {
    return this.origin + Math.floor((Date.now() - this.realStart) * this.factor);
  }
}
