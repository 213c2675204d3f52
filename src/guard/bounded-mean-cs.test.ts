import { describe, expect, it } from 'vitest';
import {
  boundedMeanConfidenceBounds,
  logEvidenceMeanAbove,
  logEvidenceMeanBelow,
} from './bounded-mean-cs.js';
import { createPrng, type Prng } from './prng.js';
import { addMoments, type MomentSums, ZERO_MOMENTS } from './signals.js';

/** Judge-like scores: a Beta-ish draw clipped to [0, 1] around `mean`. */
function draw(rng: Prng, n: number, mean: number, spread: number): MomentSums {
  let s = ZERO_MOMENTS;
  for (let i = 0; i < n; i++) {
    const x = Math.min(1, Math.max(0, mean + spread * rng.normal()));
    s = addMoments(s, { n: 1, sum: x, sumSq: x * x });
  }
  return s;
}

describe('betting confidence sequence for bounded means', () => {
  it('rarely claims "below the minimum" when the mean is at it, however often it looks', () => {
    // The mean is exactly 0.8 (scores clipped symmetrically far from the edges): the hardest null.
    const runs = 300;
    let fired = 0;
    for (let r = 0; r < runs; r++) {
      const rng = createPrng(300 + r);
      let s = ZERO_MOMENTS;
      for (let t = 0; t < 100; t++) {
        s = addMoments(s, draw(rng, 5, 0.8, 0.08));
        if (logEvidenceMeanBelow(s, 0.8) >= Math.log(1 / 0.05)) {
          fired++;
          break;
        }
      }
    }
    expect(fired / runs).toBeLessThanOrEqual(0.05);
  });

  it('finds a judge similarity that dropped below the minimum, faster when scores are tight', () => {
    const looksUntil = (spread: number) => {
      const rng = createPrng(17);
      let s = ZERO_MOMENTS;
      for (let t = 1; t <= 500; t++) {
        s = addMoments(s, draw(rng, 5, 0.74, spread));
        if (logEvidenceMeanBelow(s, 0.8) >= Math.log(20)) return t;
      }
      return Number.POSITIVE_INFINITY;
    };
    const tight = looksUntil(0.03);
    const loose = looksUntil(0.2);
    expect(tight).toBeLessThan(20);
    expect(tight).toBeLessThan(loose);
  });

  it('gives bounds around the mean, and no evidence on the side the data supports', () => {
    const rng = createPrng(23);
    const s = draw(rng, 400, 0.9, 0.05);
    const b = boundedMeanConfidenceBounds(s, 0.05);
    expect(b.mean).not.toBeNull();
    expect(b.lower).toBeLessThan(b.mean ?? 0);
    expect(b.upper).toBeGreaterThan(b.mean ?? 1);
    expect(b.upper - b.lower).toBeLessThan(0.05);
    expect(logEvidenceMeanBelow(s, 0.85)).toBeLessThanOrEqual(0);
    expect(logEvidenceMeanAbove(s, 0.85)).toBeGreaterThan(Math.log(20));
    expect(boundedMeanConfidenceBounds(ZERO_MOMENTS, 0.05)).toEqual({ mean: null, lower: 0, upper: 1 });
  });
});
