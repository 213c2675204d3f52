import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bernoulliConfidenceSequence,
  betaBinomialLogMixture,
  rateDifferenceConfidenceSequence,
} from './confidence-sequence.js';
import { createPrng } from './prng.js';
import { logBeta, logGamma, logSumExp, safeNewton } from './special-functions.js';

describe('special functions', () => {
  it('computes ln Γ and ln B to ~1e-12', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(logGamma(10)).toBeCloseTo(Math.log(362880), 11);
    expect(logGamma(0.1)).toBeCloseTo(2.252712651734206, 11);
    // Stirling for large arguments.
    const x = 1e6;
    const stirling = (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x);
    expect(logGamma(x)).toBeCloseTo(stirling, 6);
    expect(logBeta(0.5, 0.5)).toBeCloseTo(Math.log(Math.PI), 12);
    expect(logBeta(2, 3)).toBeCloseTo(Math.log(1 / 12), 12);
  });

  it('adds in log space without overflow and finds bracketed roots', () => {
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.log(2), 9);
    expect(logSumExp([])).toBe(Number.NEGATIVE_INFINITY);
    expect(
      safeNewton(
        (x) => x * x - 2,
        (x) => 2 * x,
        0,
        2,
      ),
    ).toBeCloseTo(Math.SQRT2, 9);
  });
});

describe('beta-binomial confidence sequence', () => {
  it('contains the estimate, and rejects rates far from it', () => {
    const cs = bernoulliConfidenceSequence({ trials: 1000, events: 10 }, 0.05);
    expect(cs.lower).toBeLessThan(0.01);
    expect(cs.upper).toBeGreaterThan(0.01);
    expect(cs.upper).toBeLessThan(0.03);
    expect(betaBinomialLogMixture({ trials: 1000, events: 10 }, cs.upper)).toBeCloseTo(Math.log(20), 6);
    expect(bernoulliConfidenceSequence({ trials: 0, events: 0 }, 0.05)).toEqual({ lower: 0, upper: 1 });
    expect(bernoulliConfidenceSequence({ trials: 50, events: 0 }, 0.05).lower).toBe(0);
    // All events: the Newton step converges onto the bracket's edge (once sent back to bisecting).
    const all = bernoulliConfidenceSequence({ trials: 377, events: 377 }, 0.05);
    expect(all.upper).toBe(1);
    expect(betaBinomialLogMixture({ trials: 377, events: 377 }, all.lower)).toBeCloseTo(Math.log(20), 9);
  });

  it('covers the true rate at every look at once, in at least 1 − α of runs', () => {
    const runs = 300;
    let missed = 0;
    const p = 0.02;
    for (let r = 0; r < runs; r++) {
      const rng = createPrng(200 + r);
      let c = { trials: 0, events: 0 };
      for (let t = 0; t < 100; t++) {
        const n = 50;
        c = { trials: c.trials + n, events: c.events + rng.binomial(n, p) };
        const cs = bernoulliConfidenceSequence(c, 0.1);
        if (p < cs.lower || p > cs.upper) {
          missed++;
          break;
        }
      }
    }
    expect(missed / runs).toBeLessThanOrEqual(0.1);
  });

  it('moves up when events are added (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.nat(), (trials, e) => {
        const events = e % trials;
        const a = bernoulliConfidenceSequence({ trials, events }, 0.05);
        const b = bernoulliConfidenceSequence({ trials, events: events + 1 }, 0.05);
        expect(b.lower).toBeGreaterThanOrEqual(a.lower - 1e-9);
        expect(b.upper).toBeGreaterThanOrEqual(a.upper - 1e-9);
        expect(a.lower).toBeLessThanOrEqual(events / trials + 1e-12);
        expect(a.upper).toBeGreaterThanOrEqual(events / trials - 1e-12);
        // The ends sit on the boundary M_n(p) = 1/α (unless pinned at 0 or 1).
        const edge = Math.log(20);
        for (const c of [
          { trials, events },
          { trials, events: events + 1 },
        ]) {
          const cs = bernoulliConfidenceSequence(c, 0.05);
          if (cs.lower > 0) expect(betaBinomialLogMixture(c, cs.lower)).toBeCloseTo(edge, 5);
          if (cs.upper < 1) expect(betaBinomialLogMixture(c, cs.upper)).toBeCloseTo(edge, 5);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('bounds the difference of two rates from both cohorts', () => {
    const d = rateDifferenceConfidenceSequence(
      { trials: 2000, events: 60 },
      { trials: 38_000, events: 380 },
      0.05,
    );
    expect(d.estimate).toBeCloseTo(0.02, 12);
    expect(d.lower).toBeGreaterThan(0);
    expect(d.upper).toBeGreaterThan(0.02);
  });
});
