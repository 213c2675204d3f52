/**
 * Fault injection and latency: how a simulated provider misbehaves and how slow it is. Both are
 * drawn from the request's PRNG, so a replay fails the same requests the same way.
 */

import type { Rng } from './prng.js';
import type { LatencyDistribution, ResolvedProfile } from './profile.js';

export type Fault =
  | { kind: 'rate_limit'; retryAfterSeconds: number }
  | { kind: 'server_error' }
  | { kind: 'overloaded' }
  /** Never answer; drop the connection after `hangMs` (or when the client gives up first). */
  | { kind: 'timeout'; hangMs: number }
  /** Answer 200 but cut the SSE stream / JSON body short. */
  | { kind: 'malformed' }
  /** Answer 200 with an HTML page instead of JSON. */
  | { kind: 'non_json' };

/**
 * At most one fault per request, from one uniform draw over the rates laid end to end (in the
 * order below), so rates add up: 0.1 rate limits + 0.05 server errors fail 15% of requests. If
 * the rates sum past 1, the later kinds get what is left.
 */
export function decideFault(errors: ResolvedProfile['errors'], rng: Rng): Fault | undefined {
  const u = rng.next();
  let edge = 0;
  const hit = (rate: number) => {
    const start = edge;
    edge += rate;
    return rate > 0 && u >= start && u < edge;
  };
  if (hit(errors.rateLimit.rate))
    return { kind: 'rate_limit', retryAfterSeconds: errors.rateLimit.retryAfterSeconds };
  if (hit(errors.serverError.rate)) return { kind: 'server_error' };
  if (hit(errors.overloaded.rate)) return { kind: 'overloaded' };
  if (hit(errors.timeout.rate)) return { kind: 'timeout', hangMs: errors.timeout.hangMs };
  if (hit(errors.malformed.rate)) return { kind: 'malformed' };
  if (hit(errors.nonJson.rate)) return { kind: 'non_json' };
  return undefined;
}

// z of the 99th percentile of the standard normal distribution.
const Z99 = 2.3263478740408408;

/**
 * A duration in ms. `fixed`: always p50. `uniform`: flat over the range whose median is p50 and
 * 99th percentile p99 (clipped at 0). `lognormal`: median p50, 99th percentile p99, the usual
 * long-tailed shape of service latency.
 */
export function sampleMs(dist: LatencyDistribution, rng: Rng): number {
  const p50 = dist.p50Ms;
  const p99 = Math.max(dist.p99Ms ?? p50, p50);
  if (p50 <= 0 && p99 <= 0) return 0;
  switch (dist.distribution) {
    case 'fixed':
      return p50;
    case 'uniform': {
      const width = (p99 - p50) / 0.49;
      return Math.max(0, p50 - width / 2 + rng.next() * width);
    }
    case 'lognormal': {
      if (p50 <= 0) return rng.next() * p99;
      const sigma = Math.log(p99 / p50) / Z99;
      return Math.exp(Math.log(p50) + sigma * rng.normal());
    }
  }
}

export interface LatencyPlan {
  firstTokenMs: number;
  totalMs: number;
  /** Delay between streamed frames, given how many frames there are. */
  interChunkMs(frames: number): number;
}

export function planLatency(latency: ResolvedProfile['latency'], rng: Rng): LatencyPlan {
  const firstTokenMs = Math.round(sampleMs(latency.firstToken, rng));
  const totalMs = Math.max(firstTokenMs, Math.round(sampleMs(latency.total, rng)));
  return {
    firstTokenMs,
    totalMs,
    interChunkMs: (frames) =>
      latency.interChunkMs ?? (frames > 1 ? Math.max(0, (totalMs - firstTokenMs) / (frames - 1)) : 0),
  };
}
