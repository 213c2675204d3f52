/**
 * Always-valid confidence sequences for Bernoulli rates (a cohort's failure rate) and for the
 * difference of two of them.
 *
 * Method: the conjugate (beta) mixture of Bernoulli likelihood ratios — Robbins (1970),
 * "Statistical methods related to the law of the iterated logarithm"; the beta-binomial
 * boundary in Howard, Ramdas, McAuliffe & Sekhon (2021), "Time-uniform, nonparametric,
 * nonasymptotic confidence sequences", Ann. Statist. 49(2). For n trials with S events
 * (F = n − S) and a Beta(a, b) mixing prior,
 *
 *   M_n(p) = ∫ Π q^x (1−q)^(1−x) dBeta(q; a, b) / Π p^x (1−p)^(1−x)
 *          = B(a + S, b + F) / ( B(a, b) · p^S (1−p)^F ).
 *
 * Under iid Bernoulli(p), M_n(p) is a nonnegative martingale with mean 1, so by Ville's inequality
 * P(∃n: M_n(p) ≥ 1/α) ≤ α, and CS_n = { p : M_n(p) < 1/α } covers p at every n simultaneously:
 * it may be looked at after every event. ln M_n(p) is convex in p with its minimum (≤ 0) at
 * S/n, so CS_n is an interval; its ends are found by safeguarded Newton steps.
 *
 * The prior is Jeffreys, Beta(½, ½): it puts mass near 0 and 1, where failure and coercion rates
 * live, so the boundary is tight for rare events (the mixture pays ~½·ln n, like Krichevsky–
 * Trofimov coding).
 *
 * The difference of two independent rates gets the Minkowski difference of two sequences at α/2
 * each (a union bound): exact and simple, and with a 5% canary the control's interval is narrow,
 * so the difference interval is close to the canary's own.
 */
import type { BernoulliCounts } from './signals.js';
import { logBeta, safeNewton } from './special-functions.js';

export interface BetaPrior {
  readonly a: number;
  readonly b: number;
}

export const JEFFREYS_PRIOR: BetaPrior = Object.freeze({ a: 0.5, b: 0.5 });

export interface Interval {
  readonly lower: number;
  readonly upper: number;
}

/** ln M_n(p0) = c − S ln p0 − F ln(1 − p0), where c = ln B(a+S, b+F) − ln B(a, b) does not depend on p0. */
function mixtureConstant(c: BernoulliCounts, prior: BetaPrior): number {
  return logBeta(prior.a + c.events, prior.b + c.trials - c.events) - logBeta(prior.a, prior.b);
}

function logLikelihood(c: BernoulliCounts, p0: number): number {
  const s = c.events;
  const f = c.trials - c.events;
  // 0·ln 0 = 0: a rate of exactly 0 (or 1) is only impossible when an event (or a non-event) was seen.
  return (s > 0 ? s * Math.log(p0) : 0) + (f > 0 ? f * Math.log1p(-p0) : 0);
}

/** ln M_n(p0): the evidence against "the rate is p0" after these counts. */
export function betaBinomialLogMixture(
  c: BernoulliCounts,
  p0: number,
  prior: BetaPrior = JEFFREYS_PRIOR,
): number {
  return mixtureConstant(c, prior) - logLikelihood(c, p0);
}

/** The (1 − α) always-valid confidence interval for one Bernoulli rate. */
export function bernoulliConfidenceSequence(
  c: BernoulliCounts,
  alpha: number,
  prior: BetaPrior = JEFFREYS_PRIOR,
): Interval {
  if (c.trials <= 0) return { lower: 0, upper: 1 };
  // Rejected where c − ln L(p) ≥ ln(1/α), i.e. where ln L(p) ≤ c − ln(1/α).
  const floor = mixtureConstant(c, prior) - Math.log(1 / alpha);
  const estimate = c.events / c.trials;
  // ln L(p) − floor is concave with its maximum (> 0) at the estimate: one root on each side.
  const s = c.events;
  const f = c.trials - c.events;
  const h = (p: number) => logLikelihood(c, p) - floor;
  const dh = (p: number) => s / p - f / (1 - p);
  const lower = s === 0 ? 0 : safeNewton(h, dh, 0, estimate);
  const upper = f === 0 ? 1 : safeNewton(h, dh, estimate, 1);
  return { lower, upper };
}

export interface DifferenceInterval extends Interval {
  /** Point estimate of canary rate − control rate. */
  readonly estimate: number;
}

/**
 * Always-valid interval for (canary rate − control rate): each rate at α/2, then
 * [L_canary − U_control, U_canary − L_control]. Requires trials in both cohorts to say anything.
 */
export function rateDifferenceConfidenceSequence(
  canary: BernoulliCounts,
  control: BernoulliCounts,
  alpha: number,
): DifferenceInterval {
  const c = bernoulliConfidenceSequence(canary, alpha / 2);
  const s = bernoulliConfidenceSequence(control, alpha / 2);
  const estimate =
    canary.trials > 0 && control.trials > 0
      ? canary.events / canary.trials - control.events / control.trials
      : 0;
  return { lower: c.lower - s.upper, upper: c.upper - s.lower, estimate };
}
