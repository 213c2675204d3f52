import type { BatchingOptions } from '../telemetry/batching-sink.js';
import type { BreakerOptions } from './circuit-breaker.js';

/** Everything tunable about the request path. Every field has a default (below). */
export interface GatewayConfig {
  /** Largest request body accepted; larger ones get 413 in the client's wire format. */
  bodyLimitBytes: number;
  connectTimeoutMs: number;
  /** Time to the provider's response headers (its time to first token, for streams). */
  headersTimeoutMs: number;
  /** Longest silence between two chunks of the provider's body. */
  bodyTimeoutMs: number;
  maxConnectionsPerOrigin: number;
  keepAliveTimeoutMs: number;
  /** Largest non-streamed provider response read into memory. */
  maxResponseBytes: number;
  /** Largest single server-sent event (a bound on what is held while framing a stream). */
  maxEventBytes: number;
  /** A provider 429 with a Retry-After up to this is waited out and retried once; longer ones go to the client. */
  maxRetryAfterMs: number;
  /** How long a session keeps its version after its last request. */
  sessionPinTtlMs: number;
  /**
   * Send `x-switchyard-tenant: <tenant id>` to providers. The simulator scopes drift by it (demo,
   * tests); off by default, because a real provider has no business knowing tenant ids.
   */
  upstreamTenantHeader: boolean;
  breaker: BreakerOptions;
  shadow: BatchingOptions & {
    /** Shadow calls waiting at most; beyond it they are dropped and counted. */
    queueSize: number;
    /** Shadow calls in flight at once. */
    concurrency: number;
    timeoutMs: number;
  };
  telemetry: BatchingOptions;
  /** The schema compatibility layer on the request path. */
  validation: {
    /** Highest share of a tenant's calls on one version that coercion may repair (policy `coerce`). */
    coercionCap: number;
    /** Sliding window the coercion rate is measured over. */
    coercionWindowMs: number;
    /** Floor of the coercion rate's denominator (a small tenant's first calls). */
    coercionMinCalls: number;
  };
  /** Drift profiles (shadow pairs, canary vs control): how often they are saved. */
  drift: { flushIntervalMs: number };
  /** Judge similarity on sampled shadow pairs (only with a judge score sink). */
  judge: {
    /** The pinned judge model version, unless the deployment resolves one per tenant; null = no judging. */
    versionId: string | null;
    /** Share of shadow pairs judged, 0 to 1. */
    sampleRate: number;
    concurrency: number;
    /** Judge calls waiting at most; beyond it they are dropped and counted. */
    queueSize: number;
    timeoutMs: number;
  };
}

export const DEFAULT_GATEWAY_CONFIG: GatewayConfig = {
  bodyLimitBytes: 4 * 1024 * 1024,
  connectTimeoutMs: 5_000,
  headersTimeoutMs: 120_000,
  bodyTimeoutMs: 120_000,
  maxConnectionsPerOrigin: 512,
  keepAliveTimeoutMs: 30_000,
  maxResponseBytes: 32 * 1024 * 1024,
  maxEventBytes: 4 * 1024 * 1024,
  maxRetryAfterMs: 2_000,
  sessionPinTtlMs: 24 * 3600_000,
  upstreamTenantHeader: false,
  breaker: {
    windowMs: 10_000,
    buckets: 10,
    minRequests: 20,
    errorRate: 0.5,
    openMs: 5_000,
    halfOpenProbes: 1,
  },
  shadow: {
    queueSize: 1_000,
    concurrency: 8,
    timeoutMs: 60_000,
    capacity: 10_000,
    batchSize: 100,
    flushIntervalMs: 1_000,
  },
  // 250 rows is one INSERT statement; smaller writes keep each synchronous SQLite call short.
  telemetry: { capacity: 50_000, batchSize: 1_000, flushIntervalMs: 1_000 },
  validation: { coercionCap: 0.02, coercionWindowMs: 3600_000, coercionMinCalls: 100 },
  drift: { flushIntervalMs: 10_000 },
  judge: { versionId: null, sampleRate: 0.05, concurrency: 2, queueSize: 100, timeoutMs: 30_000 },
};

type Sections = 'breaker' | 'shadow' | 'telemetry' | 'validation' | 'drift' | 'judge';

export type GatewayConfigInput = Partial<Omit<GatewayConfig, Sections>> & {
  [K in Sections]?: Partial<GatewayConfig[K]>;
};

/** Drops undefined fields, so a caller passing `{ x: undefined }` keeps the default of x. */
function defined<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Fills in defaults, one level deep. */
export function resolveGatewayConfig(input: GatewayConfigInput = {}): GatewayConfig {
  const d = DEFAULT_GATEWAY_CONFIG;
  const { breaker, shadow, telemetry, validation, drift, judge, ...top } = input;
  return {
    ...d,
    ...defined(top),
    breaker: { ...d.breaker, ...defined(breaker) },
    shadow: { ...d.shadow, ...defined(shadow) },
    telemetry: { ...d.telemetry, ...defined(telemetry) },
    validation: { ...d.validation, ...defined(validation) },
    drift: { ...d.drift, ...defined(drift) },
    judge: { ...d.judge, ...defined(judge) },
  };
}
