/**
 * An always-valid test and confidence bounds for the mean of scores in [0, 1] (judge similarity of
 * canary/shadow pairs), computed from count, sum and sum of squares only — what per-minute
 * rollups can carry.
 *
 * Method: a betting (capital-process) confidence sequence in the style of Waudby-Smith & Ramdas
 * (2024), "Estimating means of bounded random variables by betting", JRSS-B 86(1), made
 * computable from moment sums through an inequality of Fan, Grama & Liu (2015), also
 * used by Howard et al. (2021) for their empirical-Bernstein bounds:
 *
 *   ln(1 + λz) ≥ λz + ψ(λ) z²,   ψ(λ) = ln(1 − λ) + λ ≤ 0,   for z ≥ −1 and 0 ≤ λ < 1.
 *
 * To test H0 "the mean is at least m" (the judge is satisfied), bet on scores below m with
 * z_i = (m − X_i) / (1 − m) ≥ −1. Each factor exp(λ z_i + ψ(λ) z_i²) ≤ 1 + λ z_i has conditional
 * expectation ≤ 1 under H0, so the product
 *
 *   K_λ(m) = exp(λ Σz + ψ(λ) Σz²),   Σz = (n m − S) / (1 − m),   Σz² = (Q − 2mS + n m²) / (1 − m)²
 *
 * is a nonnegative supermartingale (S = Σ X, Q = Σ X²), even when the mean drifts over time as long
 * as it stays ≥ m. The evidence is the average of K_λ over a fixed grid of bets λ (a mixture, hence
 * still a supermartingale), and Ville's inequality bounds P(∃n: evidence ≥ 1/α) by α. The sum of
 * squares is where the variance enters: judge scores that cluster tightly give evidence much faster
 * than Hoeffding's worst-case variance of ¼ would. The upper confidence bound is the largest m above
 * the sample mean not yet rejected; the mirror image (z = (X − m)/m) gives the lower bound.
 */
import type { MomentSums } from './signals.js';
import { bisect, logSumExp } from './special-functions.js';

/** Bets λ ∈ (0, 1): small ones win on small, long-lived gaps, large ones on big, sudden ones. */
export const DEFAULT_BETS: readonly number[] = Object.freeze([0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9]);

const EDGE = 1e-9;

function psi(lambda: number): number {
  return Math.log1p(-lambda) + lambda;
}

function mixture(sumZ: number, sumZ2: number, bets: readonly number[]): number {
  return logSumExp(bets.map((l) => l * sumZ + psi(l) * sumZ2)) - Math.log(bets.length);
}

/** ln of the evidence against "the mean is ≥ m", i.e. for "the mean is below m". */
export function logEvidenceMeanBelow(
  s: MomentSums,
  m: number,
  bets: readonly number[] = DEFAULT_BETS,
): number {
  if (s.n <= 0 || m >= 1 - EDGE) return 0;
  const span = 1 - m;
  const sumZ = (s.n * m - s.sum) / span;
  const sumZ2 = (s.sumSq - 2 * m * s.sum + s.n * m * m) / (span * span);
  return mixture(sumZ, sumZ2, bets);
}

/** ln of the evidence against "the mean is ≤ m", i.e. for "the mean is above m". */
export function logEvidenceMeanAbove(
  s: MomentSums,
  m: number,
  bets: readonly number[] = DEFAULT_BETS,
): number {
  if (s.n <= 0 || m <= EDGE) return 0;
  const sumZ = (s.sum - s.n * m) / m;
  const sumZ2 = (s.sumSq - 2 * m * s.sum + s.n * m * m) / (m * m);
  return mixture(sumZ, sumZ2, bets);
}

/** First point from `from` towards `to` where `rejected` turns true (coarse scan, then bisection). */
function firstRejection(from: number, to: number, rejected: (m: number) => boolean): number {
  const steps = 100;
  let previous = from;
  for (let i = 1; i <= steps; i++) {
    const m = from + ((to - from) * i) / steps;
    if (rejected(m)) {
      const [lo, hi] = from < to ? [previous, m] : [m, previous];
      return from < to ? bisect(lo, hi, rejected, 1e-6) : bisect(lo, hi, (x) => !rejected(x), 1e-6);
    }
    previous = m;
  }
  return to;
}

export interface MeanBounds {
  /** Sample mean; null without scores. */
  readonly mean: number | null;
  readonly lower: number;
  readonly upper: number;
}

/** One-sided (1 − α) always-valid bounds on the mean, each side at α (use α/2 for a two-sided pair). */
export function boundedMeanConfidenceBounds(
  s: MomentSums,
  alpha: number,
  bets: readonly number[] = DEFAULT_BETS,
): MeanBounds {
  if (s.n <= 0) return { mean: null, lower: 0, upper: 1 };
  const bound = Math.log(1 / alpha);
  const mean = Math.min(1, Math.max(0, s.sum / s.n));
  const upper = firstRejection(mean, 1, (m) => logEvidenceMeanBelow(s, m, bets) >= bound);
  const lower = firstRejection(mean, 0, (m) => logEvidenceMeanAbove(s, m, bets) >= bound);
  return { mean, lower, upper };
}
