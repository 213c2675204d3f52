/**
 * The few special functions the guard's statistics need, behind one small module so an npm
 * implementation (e.g. `@stdlib/math-base-special-gammaln`) can replace them without touching the
 * callers. Everything else (mixtures, bounds) is closed-form on top of these.
 */

/** Lanczos approximation with g = 7, n = 9 (P. Godfrey's coefficients; ~15 significant digits). */
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
] as const;
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(x) for x > 0 (reflection below 1/2 keeps the Lanczos series in its accurate range). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma needs x > 0, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let series = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) series += (LANCZOS[i] ?? 0) / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(series);
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** ln Σ exp(x_i), without overflow; −Infinity for an empty list. */
export function logSumExp(xs: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const x of xs) if (x > max) max = x;
  if (max === Number.NEGATIVE_INFINITY) return max;
  let sum = 0;
  for (const x of xs) sum += Math.exp(x - max);
  return max + Math.log(sum);
}

/** ln(exp(a) + exp(b)). */
export function logAddExp(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/**
 * Finds x in [lo, hi] where a monotone predicate flips from false (at lo) to true (at hi), to a
 * tolerance; used to invert confidence sequences, whose boundaries have no closed form.
 */
export function bisect(lo: number, hi: number, flipped: (x: number) => boolean, tolerance = 1e-9): number {
  let a = lo;
  let b = hi;
  for (let i = 0; i < 200 && b - a > tolerance; i++) {
    const mid = (a + b) / 2;
    if (flipped(mid)) b = mid;
    else a = mid;
  }
  return (a + b) / 2;
}

/**
 * The root of f in [lo, hi], where f changes sign: Newton steps while they stay inside the
 * bracket, bisection otherwise (Numerical Recipes' `rtsafe`). Inverting a confidence sequence
 * at every evaluation makes this hot; Newton needs a handful of steps where bisection needs ~30.
 */
export function safeNewton(
  f: (x: number) => number,
  df: (x: number) => number,
  lo: number,
  hi: number,
  tolerance = 1e-10,
): number {
  let a = lo;
  let b = hi;
  const negativeAtLo = f(lo) < 0;
  let x = (a + b) / 2;
  for (let i = 0; i < 100; i++) {
    const fx = f(x);
    if (fx === 0) return x;
    if (fx < 0 === negativeAtLo) a = x;
    else b = x;
    const step = fx / df(x);
    const next = x - step;
    // Converged: the Newton point itself (it may sit on the bracket's edge, which must not send us
    // back to bisecting).
    if (Number.isFinite(next) && Math.abs(step) < tolerance * Math.max(1e-3, Math.abs(x))) return next;
    x = Number.isFinite(next) && next > a && next < b ? next : (a + b) / 2;
    if (b - a < tolerance) return x;
  }
  return x;
}
