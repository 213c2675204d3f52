import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldMsprt, type MsprtConfig, type MsprtPeriod, openMsprt, restartTerms } from './msprt.js';
import { createPrng, type Prng } from './prng.js';

const GRID = [1.25, 1.5, 2, 3, 5, 8, 13, 20];
const CONFIG: MsprtConfig = { rhoGrid: GRID, restartEveryMs: 20 };
const ALPHA = 0.05;
const BOUND = Math.log(1 / ALPHA);

/** One period with Poisson traffic; both cohorts fail at their own rate. */
function period(
  rng: Prng,
  t: number,
  canaryTrials: number,
  controlTrials: number,
  pCanary: number,
  pControl: number,
): MsprtPeriod {
  const n = rng.poisson(canaryTrials);
  const m = rng.poisson(controlTrials);
  return {
    startMs: t,
    canary: { trials: n, events: rng.binomial(n, pCanary) },
    control: { trials: m, events: rng.binomial(m, pControl) },
  };
}

/** One-sided two-proportion z-test (pooled), the fixed-sample test people re-run on a dashboard. */
function naiveZ(c: { trials: number; events: number }, s: { trials: number; events: number }): number {
  if (c.trials === 0 || s.trials === 0) return 0;
  const p = (c.events + s.events) / (c.trials + s.trials);
  const se = Math.sqrt(p * (1 - p) * (1 / c.trials + 1 / s.trials));
  return se > 0 ? (c.events / c.trials - s.events / s.trials) / se : 0;
}

describe('conditional mSPRT', () => {
  it('keeps its type-I error below alpha under continuous monitoring, where a repeated z-test does not', () => {
    // 500 null runs, 200 looks each. The base rate swings (an incident quadruples it for a while)
    // and the canary share wanders between 5% and 20%: the test conditions on both.
    const runs = 500;
    let sequential = 0;
    let naive = 0;
    for (let r = 0; r < runs; r++) {
      const rng = createPrng(1000 + r);
      let state = openMsprt(0);
      let c = { trials: 0, events: 0 };
      let s = { trials: 0, events: 0 };
      let seqFired = false;
      let naiveFired = false;
      for (let t = 0; t < 200; t++) {
        const base = t >= 80 && t < 100 ? 0.12 : 0.03;
        const share = 0.05 + (0.15 * ((t * 7) % 11)) / 10;
        const p = period(rng, t, 400 * share, 400 * (1 - share), base, base);
        state = foldMsprt(state, p, CONFIG);
        c = { trials: c.trials + p.canary.trials, events: c.events + p.canary.events };
        s = { trials: s.trials + p.control.trials, events: s.events + p.control.events };
        if (state.logE >= BOUND) seqFired = true;
        if (naiveZ(c, s) > 1.6449) naiveFired = true;
      }
      if (seqFired) sequential++;
      if (naiveFired) naive++;
    }
    expect(sequential / runs).toBeLessThanOrEqual(ALPHA);
    // Peeking at a fixed-sample test 200 times multiplies its error several-fold.
    expect(naive / runs).toBeGreaterThan(3 * ALPHA);
  });

  it('detects a clear regression (1% -> 3% at a 5% canary) in nearly every run', () => {
    let detected = 0;
    const delays: number[] = [];
    for (let r = 0; r < 100; r++) {
      const rng = createPrng(5000 + r);
      let state = openMsprt(0);
      for (let t = 0; t < 300; t++) {
        state = foldMsprt(state, period(rng, t, 30, 570, 0.03, 0.01), CONFIG);
        if (state.logE >= BOUND) {
          detected++;
          delays.push(t + 1);
          break;
        }
      }
    }
    expect(detected).toBeGreaterThanOrEqual(97);
    delays.sort((a, b) => a - b);
    // ~550 canary requests at the median: the same order as a fixed-sample test that knew the effect.
    expect(delays[Math.floor(delays.length / 2)]).toBeLessThan(40);
  });

  it('matches the mixture computed by brute force over restarts and relative risks', () => {
    const rng = createPrng(7);
    const periods = Array.from({ length: 23 }, (_, t) => period(rng, t * 10, 15, 150, 0.08, 0.05));
    const config: MsprtConfig = { rhoGrid: [1.5, 3, 9], restartEveryMs: 50 };
    let state = openMsprt(0);
    for (const p of periods) state = foldMsprt(state, p, config);
    // Restart k opens at the first period with startMs >= 50k: periods 0, 5, 10, 15, 20.
    const opens = [0, 5, 10, 15, 20];
    const weight = (k: number) => (k === 0 ? 0.5 : 1 / (2 * k * (k + 1)));
    let e = 1 / (2 * opens.length);
    for (const [k, from] of opens.entries()) {
      let mixture = 0;
      for (const rho of config.rhoGrid) {
        let lr = 1;
        for (const p of periods.slice(from)) {
          const share = p.canary.trials / (p.canary.trials + p.control.trials);
          lr *= rho ** p.canary.events / (1 + share * (rho - 1)) ** (p.canary.events + p.control.events);
        }
        mixture += lr / config.rhoGrid.length;
      }
      e += weight(k) * mixture;
    }
    expect(state.logE).toBeCloseTo(Math.log(e), 9);
  });

  it('finds a regression that starts late much sooner with restarts than without', () => {
    const delay = (restartEveryMs: number) => {
      const delays: number[] = [];
      for (let r = 0; r < 40; r++) {
        const rng = createPrng(9000 + r);
        let state = openMsprt(0);
        for (let t = 0; t < 2000; t++) {
          const p = period(rng, t, 15, 285, t >= 600 ? 0.05 : 0.01, 0.01);
          state = foldMsprt(state, p, { rhoGrid: GRID, restartEveryMs });
          if (t >= 600 && state.logE >= BOUND) {
            delays.push(t - 600);
            break;
          }
        }
      }
      delays.sort((a, b) => a - b);
      return delays[Math.floor(delays.length / 2)] ?? Number.POSITIVE_INFINITY;
    };
    const withRestarts = delay(60);
    const without = delay(0);
    expect(withRestarts * 2).toBeLessThan(without);
  });

  it('names the restart that carries the evidence, with its counts', () => {
    const rng = createPrng(11);
    let state = openMsprt(0);
    for (let t = 0; t < 400; t++)
      state = foldMsprt(state, period(rng, t, 15, 285, t >= 200 ? 0.08 : 0.01, 0.01), CONFIG);
    const terms = restartTerms(state, CONFIG);
    const lead = terms.reduce((a, b) => (b.logTerm > a.logTerm ? b : a));
    expect(lead.startMs).toBeGreaterThanOrEqual(180);
    expect(lead.canary.trials).toBeLessThan(state.canary.trials);
    // The terms are the mixture's parts: together with the unopened restarts they sum to E.
    const unopened = 1 / (2 * terms.length);
    const total = terms.reduce((a, t) => a + Math.exp(t.logTerm), unopened);
    expect(Math.log(total)).toBeCloseTo(state.logE, 9);
  });

  it('never loses evidence when the canary fails more (property)', () => {
    const counts = fc.record({
      n: fc.integer({ min: 0, max: 200 }),
      m: fc.integer({ min: 0, max: 2000 }),
      x: fc.integer({ min: 0, max: 200 }),
      y: fc.integer({ min: 0, max: 200 }),
    });
    fc.assert(
      fc.property(fc.array(counts, { minLength: 1, maxLength: 30 }), fc.nat({ max: 29 }), (rows, at) => {
        const periods = rows.map((r, t) => ({
          startMs: t,
          canary: { trials: r.n, events: Math.min(r.x, r.n) },
          control: { trials: r.m, events: Math.min(r.y, r.m) },
        }));
        const i = at % periods.length;
        const target = periods[i];
        if (!target || target.canary.events >= target.canary.trials) return;
        const worse = periods.map((p, t) =>
          t === i ? { ...p, canary: { trials: p.canary.trials, events: p.canary.events + 1 } } : p,
        );
        const run = (ps: MsprtPeriod[]) =>
          ps.reduce((s, p) => foldMsprt(s, p, { rhoGrid: GRID, restartEveryMs: 5 }), openMsprt(0));
        expect(run(worse).logE).toBeGreaterThanOrEqual(run(periods).logE - 1e-9);
      }),
      { numRuns: 200 },
    );
  });
});
