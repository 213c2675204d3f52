/**
 * Seeded randomness for the guard's simulations (tests and the detection benchmark): the same seed
 * gives the same traffic, so every figure and every statistical test assertion replays exactly.
 * Never used by the decision code itself, which has no randomness.
 *
 * Generator: xoshiro128** (Blackman & Vigna 2018), state seeded through SplitMix32. Counts are drawn
 * directly (Poisson arrivals, binomial splits and failures) rather than request by request, so a
 * simulated day of a 100 req/s tenant costs thousands of draws, not millions.
 */

export interface Prng {
  /** Uniform in [0, 1). */
  next(): number;
  normal(): number;
  poisson(mean: number): number;
  binomial(n: number, p: number): number;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

/** Above this expected count, draws use the normal approximation (error well below what we measure). */
const EXACT_BELOW = 40;

export function createPrng(seed: number): Prng {
  const init = splitmix32(seed);
  let a = init();
  let b = init();
  let c = init();
  let d = init() || 1;

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  const next = () => nextUint32() / 4294967296;
  const normal = () => {
    const u = 1 - next();
    const v = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };

  const poisson = (mean: number): number => {
    if (!(mean > 0)) return 0;
    if (mean >= EXACT_BELOW) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal()));
    // Knuth: multiply uniforms until the product drops below e^-mean.
    const limit = Math.exp(-mean);
    let k = 0;
    let product = next();
    while (product > limit) {
      k++;
      product *= next();
    }
    return k;
  };

  const binomial = (n: number, p: number): number => {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    if (p > 0.5) return n - binomial(n, 1 - p);
    const mean = n * p;
    if (mean >= EXACT_BELOW) {
      const draw = Math.round(mean + Math.sqrt(mean * (1 - p)) * normal());
      return Math.min(n, Math.max(0, draw));
    }
    // Waiting times: the gaps between successes are geometric, so this costs O(np), not O(n).
    const logQ = Math.log1p(-p);
    let k = 0;
    let position = 0;
    for (;;) {
      position += Math.floor(Math.log(1 - next()) / logQ) + 1;
      if (position > n) return k;
      k++;
    }
  };

  return { next, normal, poisson, binomial };
}
