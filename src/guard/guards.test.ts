import { describe, expect, it } from 'vitest';
import { alphaFor, DEFAULT_GUARD_CONFIG, guardConfig } from './config.js';
import { MINUTE, minuteBucket } from './fixtures.js';
import { dataProblem, extendStreak, streakMet } from './guards.js';
import { foldPeriod, openLedger } from './ledger.js';
import { createPrng } from './prng.js';

describe('streaks', () => {
  it('need both the count and the duration', () => {
    const rule = { evaluations: 3, minDurationMs: 2 * MINUTE };
    let s = extendStreak(null, 0);
    expect(streakMet(s, rule, 0)).toBe(false);
    s = extendStreak(s, MINUTE);
    s = extendStreak(s, 2 * MINUTE - 1);
    expect(s).toEqual({ sinceMs: 0, evaluations: 3 });
    expect(streakMet(s, rule, 2 * MINUTE - 1)).toBe(false);
    expect(streakMet(s, rule, 2 * MINUTE)).toBe(true);
  });
});

describe('data guard', () => {
  const config = guardConfig({ settleMs: 30_000, staleAfterMs: 15 * MINUTE });
  const ledger = foldPeriod(
    openLedger(0),
    minuteBucket(0, { toolCalls: { trials: 5, events: 0 } }, { toolCalls: { trials: 95, events: 1 } }),
    config.msprt,
  );

  it('accepts fresh data and flags silence past the limit', () => {
    expect(dataProblem(ledger, { kind: 'available' }, 10 * MINUTE, config)).toBeNull();
    const stale = dataProblem(ledger, { kind: 'available' }, 20 * MINUTE, config);
    expect(stale?.kind).toBe('stale');
  });

  it('flags an unavailable source whatever the data', () => {
    const down = dataProblem(
      ledger,
      { kind: 'unavailable', sinceMs: MINUTE, detail: 'x' },
      2 * MINUTE,
      config,
    );
    expect(down).toMatchObject({ kind: 'source_unavailable', statistic: MINUTE });
  });
});

describe('configuration', () => {
  it('splits alpha across enabled checks and switches off capless caps', () => {
    const total = [
      'tool_call_failure',
      'request_error',
      'coercion',
      'task_failure',
      'downstream_error',
    ] as const;
    const sum =
      total.reduce((a, s) => a + alphaFor(DEFAULT_GUARD_CONFIG, s), 0) +
      alphaFor(DEFAULT_GUARD_CONFIG, 'cap:tool_call_failure') +
      alphaFor(DEFAULT_GUARD_CONFIG, 'cap:coercion') +
      alphaFor(DEFAULT_GUARD_CONFIG, 'judge_similarity');
    expect(sum).toBeCloseTo(0.05, 12);
    expect(alphaFor(DEFAULT_GUARD_CONFIG, 'cap:task_failure')).toBe(0);
  });

  it('rejects nonsense with every problem listed', () => {
    expect(() => guardConfig({ alpha: 2, msprt: { rhoGrid: [0.5], restartEveryMs: 0 } })).toThrow(
      /invalid rollback guard configuration/,
    );
    try {
      guardConfig({ alpha: 2, msprt: { rhoGrid: [0.5], restartEveryMs: 0 } });
    } catch (e) {
      expect(e).toMatchObject({
        code: 'invalid_input',
        details: [{ path: '/alpha' }, { path: '/msprt/rhoGrid/0' }],
      });
    }
  });

  it('is frozen', () => {
    const c = guardConfig();
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.msprt.rhoGrid)).toBe(true);
  });
});

describe('seeded PRNG', () => {
  it('replays a seed and draws counts with the right means', () => {
    const a = createPrng(42);
    const b = createPrng(42);
    expect([a.next(), a.next(), a.next()]).toEqual([b.next(), b.next(), b.next()]);
    const rng = createPrng(1);
    const mean = (f: () => number, n = 4000) => Array.from({ length: n }, f).reduce((x, y) => x + y, 0) / n;
    expect(mean(() => rng.binomial(300, 0.05))).toBeCloseTo(15, 0);
    expect(mean(() => rng.binomial(20_000, 0.01))).toBeCloseTo(200, -1);
    expect(mean(() => rng.poisson(3.5))).toBeCloseTo(3.5, 1);
    expect(mean(() => rng.poisson(600))).toBeCloseTo(600, -1);
    expect(rng.binomial(10, 1)).toBe(10);
    expect(rng.binomial(0, 0.5)).toBe(0);
  });
});
