/**
 * Seeded randomness for the simulator. Every decision a simulated model takes (fault, latency,
 * content, drift) draws from a PRNG derived from the request itself, never from Math.random, so
 * a scenario replays exactly. The generators are tiny and fast on purpose: the simulator is the
 * upstream in benchmarks.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over the UTF-16 code units of a string: a 32-bit, non-cryptographic, stable hash. */
export function fnv1a32(text: string, seed = FNV_OFFSET): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/**
 * A 64-bit-ish key for request identity (two independent FNV-1a passes). Used to count repeats of
 * the same request, where a 32-bit collision would make two different requests share a count.
 */
export function requestKey(text: string): string {
  return `${fnv1a32(text).toString(36)}.${fnv1a32(text, 0x9e3779b9).toString(36)}.${text.length}`;
}

/** SplitMix32 finaliser: spreads one 32-bit seed into well-mixed state words. */
function splitmix32(state: number): number {
  let z = (state + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** sfc32 (Small Fast Counting), seeded from a string through FNV-1a and SplitMix32. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** The seed label, kept so independent sub-streams can be forked from it. */
  readonly label: string;

  constructor(label: string) {
    this.label = label;
    const h = fnv1a32(label);
    this.a = splitmix32(h);
    this.b = splitmix32(this.a);
    this.c = splitmix32(this.b);
    this.d = 1;
    // Warm up: the first outputs of sfc32 from correlated seeds are weak.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /**
   * An independent stream for one concern (e.g. `latency`, `content`). Forking keeps concerns
   * apart: changing the latency profile never changes which tool the model picks.
   */
  fork(name: string): Rng {
    return new Rng(`${this.label}/${name}`);
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** True with probability `p` (p <= 0 never draws true, p >= 1 always does). */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.next() < p;
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    if (max <= min) return min;
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T | undefined {
    if (items.length === 0) return undefined;
    return items[Math.floor(this.next() * items.length)];
  }

  /** Standard normal draw (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** An identifier body in base62, the alphabet providers use for ids. */
  id(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += BASE62[this.nextUint32() % 62];
    return out;
  }
}
