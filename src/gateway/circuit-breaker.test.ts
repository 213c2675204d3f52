import { describe, expect, it } from 'vitest';
import { ManualClock } from '../shared/clock.js';
import { CircuitBreaker } from './circuit-breaker.js';

const OPTS = {
  windowMs: 10_000,
  buckets: 10,
  minRequests: 10,
  errorRate: 0.5,
  openMs: 5_000,
  halfOpenProbes: 1,
};

describe('CircuitBreaker', () => {
  it('stays closed below the minimum number of calls, then opens at the error rate', () => {
    const clock = new ManualClock();
    const b = new CircuitBreaker(OPTS, clock);
    for (let i = 0; i < 9; i++) b.record('failure');
    expect(b.allow()).toBe(true);
    b.record('failure');
    expect(b.snapshot().state).toBe('open');
    expect(b.allow()).toBe(false);
    expect(b.retryInMs()).toBe(5_000);
  });

  it('does not open while most calls succeed, and forgets calls older than the window', () => {
    const clock = new ManualClock();
    const b = new CircuitBreaker(OPTS, clock);
    for (let i = 0; i < 6; i++) b.record('success');
    for (let i = 0; i < 5; i++) b.record('failure');
    expect(b.snapshot().state).toBe('closed');
    clock.advance(11_000);
    expect(b.snapshot().calls).toBe(0);
    for (let i = 0; i < 9; i++) b.record('failure');
    expect(b.snapshot().state).toBe('closed');
  });

  it('lets one probe through when half-open; a success closes, a failure reopens', () => {
    const clock = new ManualClock();
    const b = new CircuitBreaker(OPTS, clock);
    for (let i = 0; i < 10; i++) b.record('failure');
    clock.advance(5_000);
    expect(b.allow()).toBe(true);
    expect(b.allow()).toBe(false);
    b.record('failure');
    expect(b.snapshot().state).toBe('open');
    clock.advance(5_000);
    expect(b.allow()).toBe(true);
    b.record('ignored');
    expect(b.allow()).toBe(true);
    b.record('success');
    expect(b.snapshot()).toMatchObject({ state: 'closed', calls: 0 });
  });

  it('ignores outcomes that say nothing about the version', () => {
    const b = new CircuitBreaker(OPTS, new ManualClock());
    for (let i = 0; i < 50; i++) b.record('ignored');
    expect(b.snapshot()).toMatchObject({ state: 'closed', calls: 0 });
  });
});
