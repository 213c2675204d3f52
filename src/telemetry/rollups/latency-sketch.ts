import { DDSketch } from '@datadog/sketches-js';

/**
 * Latency distributions as DDSketches: mergeable quantile sketches with a relative-error
 * guarantee (a reported quantile is within ±1% of a value at that rank), so a window's p99 is
 * computed from the merged sketches of its minutes and writers instead of averaging percentiles.
 */
export const SKETCH_RELATIVE_ACCURACY = 0.01;

export type LatencySketch = DDSketch;

export function newSketch(): LatencySketch {
  return new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY });
}

/** Adds one observation; negative or non-finite values (a broken clock) count as 0. */
export function acceptLatency(sketch: LatencySketch, ms: number): void {
  sketch.accept(Number.isFinite(ms) && ms > 0 ? ms : 0);
}

/**
 * The sketch as compact text: only the non-empty bins, as delta-coded keys and their counts. The
 * library's own protobuf form writes every bin between the smallest and largest key as a double
 * (and needs protobufjs); a minute of a few hundred requests has far fewer non-empty bins.
 *   {"a":0.01,"z":<zero count>,"k":[k0, k1-k0, ...],"c":[c0, c1, ...]}
 */
export function encodeSketch(sketch: LatencySketch): string {
  const keys: number[] = [];
  const counts: number[] = [];
  const store = sketch.store;
  let previous = 0;
  for (let i = 0; i < store.bins.length; i++) {
    const c = store.bins[i] ?? 0;
    if (c === 0) continue;
    const key = i + store.offset;
    keys.push(keys.length === 0 ? key : key - previous);
    counts.push(c);
    previous = key;
  }
  return JSON.stringify({ a: SKETCH_RELATIVE_ACCURACY, z: sketch.zeroCount, k: keys, c: counts });
}

interface Encoded {
  a: number;
  z: number;
  k: number[];
  c: number[];
}

/** Rebuilds a sketch from `encodeSketch` text (each bin's representative value, with its count). */
export function decodeSketch(text: string): LatencySketch {
  const e = JSON.parse(text) as Encoded;
  if (e.a !== SKETCH_RELATIVE_ACCURACY || e.k.length !== e.c.length) {
    throw new Error(`unsupported latency sketch encoding (accuracy ${e.a})`);
  }
  const sketch = newSketch();
  if (e.z > 0) sketch.accept(0, e.z);
  let key = 0;
  for (let i = 0; i < e.k.length; i++) {
    key = i === 0 ? (e.k[i] as number) : key + (e.k[i] as number);
    sketch.accept(sketch.mapping.value(key), e.c[i] as number);
  }
  return sketch;
}

export function mergeInto(target: LatencySketch, source: LatencySketch): void {
  if (source.count > 0) target.merge(source);
}

/** The value at quantile q (0..1), or null when the sketch is empty. */
export function quantile(sketch: LatencySketch, q: number): number | null {
  return sketch.count > 0 ? sketch.getValueAtQuantile(q) : null;
}
