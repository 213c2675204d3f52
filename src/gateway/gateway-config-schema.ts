import { type Static, type TProperties, Type } from '@sinclair/typebox';
import { DEFAULT_GATEWAY_CONFIG as D } from './gateway-config.js';
import { DEFAULT_PIN_STORE_CONFIG } from './pins/create-pin-store.js';

/**
 * The `gateway:` section of the configuration file, as a JSON Schema with every default, to be
 * embedded in the application's ConfigSchema (`gateway: GatewayConfigSchema`). Its value is a
 * GatewayConfigInput plus the pin store's tuning (`pins`).
 */
const section = <T extends TProperties>(props: T, description: string) =>
  Type.Object(props, { additionalProperties: false, default: {}, description });
const ms = (dflt: number, description: string, minimum = 1) =>
  Type.Integer({ minimum, maximum: 86_400_000, default: dflt, description: `${description} (milliseconds)` });
const count = (dflt: number, description: string, maximum = 10_000_000) =>
  Type.Integer({ minimum: 1, maximum, default: dflt, description });
const batching = (d: { capacity: number; batchSize: number; flushIntervalMs: number }) => ({
  capacity: count(d.capacity, 'items held waiting to be written; beyond it they are dropped and counted'),
  batchSize: count(d.batchSize, 'items per write', 5_000),
  flushIntervalMs: ms(d.flushIntervalMs, 'longest an item waits before it is written'),
});

export const GatewayConfigSchema = section(
  {
    bodyLimitBytes: Type.Integer({
      minimum: 1024,
      maximum: 64 * 1024 * 1024,
      default: D.bodyLimitBytes,
      description: 'largest request body accepted; larger ones get 413 in the client wire format',
    }),
    connectTimeoutMs: ms(D.connectTimeoutMs, 'time to connect to a provider'),
    headersTimeoutMs: ms(
      D.headersTimeoutMs,
      "time to a provider's response headers (its time to first token)",
    ),
    bodyTimeoutMs: ms(D.bodyTimeoutMs, "longest silence between two chunks of a provider's answer"),
    maxConnectionsPerOrigin: count(
      D.maxConnectionsPerOrigin,
      'pooled keep-alive connections per provider origin',
      65_536,
    ),
    keepAliveTimeoutMs: ms(D.keepAliveTimeoutMs, 'how long an idle pooled connection is kept'),
    maxResponseBytes: count(
      D.maxResponseBytes,
      'largest non-streamed provider answer read',
      1024 * 1024 * 1024,
    ),
    maxEventBytes: count(D.maxEventBytes, 'largest single streamed event', 256 * 1024 * 1024),
    maxRetryAfterMs: ms(
      D.maxRetryAfterMs,
      'a provider 429 with a Retry-After up to this is waited out and retried once',
      0,
    ),
    sessionPinTtlMs: ms(D.sessionPinTtlMs, 'how long a session keeps its version after its last request'),
    upstreamTenantHeader: Type.Boolean({
      default: D.upstreamTenantHeader,
      description: 'send x-switchyard-tenant to providers (for the simulator; keep off for real providers)',
    }),
    breaker: section(
      {
        windowMs: ms(D.breaker.windowMs, 'rolling window the error rate is measured over'),
        buckets: count(D.breaker.buckets, 'buckets the window is divided into', 1_000),
        minRequests: count(D.breaker.minRequests, 'no verdict on fewer calls than this in the window'),
        errorRate: Type.Number({
          minimum: 0,
          maximum: 1,
          default: D.breaker.errorRate,
          description: 'error rate that opens it',
        }),
        openMs: ms(D.breaker.openMs, 'how long it stays open before probing'),
        halfOpenProbes: count(D.breaker.halfOpenProbes, 'calls let through at once while half-open', 1_000),
      },
      'circuit breaker per model version',
    ),
    shadow: section(
      {
        queueSize: count(
          D.shadow.queueSize,
          'shadow calls waiting at most; beyond it they are dropped and counted',
        ),
        concurrency: count(D.shadow.concurrency, 'shadow calls in flight at once', 10_000),
        timeoutMs: ms(D.shadow.timeoutMs, 'deadline of one shadow call'),
        ...batching(D.shadow),
      },
      'shadow mode: mirroring requests to the candidate',
    ),
    telemetry: section(batching(D.telemetry), 'per-request telemetry events'),
    validation: section(
      {
        coercionCap: Type.Number({
          minimum: 0,
          maximum: 1,
          default: D.validation.coercionCap,
          description:
            "highest share of a tenant's tool calls on one version that coercion may repair (policy coerce); crossing it stops coercion and raises a regression signal",
        }),
        coercionWindowMs: ms(D.validation.coercionWindowMs, 'sliding window of the coercion rate'),
        coercionMinCalls: count(D.validation.coercionMinCalls, "floor of the coercion rate's denominator"),
      },
      'tool-call and output-format contracts on the request path',
    ),
    drift: section(
      { flushIntervalMs: ms(D.drift.flushIntervalMs, 'how often drift profiles are saved') },
      'drift profiles of candidates (shadow pairs, canary vs control)',
    ),
    judge: section(
      {
        versionId: Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()], {
          default: D.judge.versionId,
          description: 'the pinned judge model version for shadow pairs; null: no judging',
        }),
        sampleRate: Type.Number({
          minimum: 0,
          maximum: 1,
          default: D.judge.sampleRate,
          description: 'share of shadow pairs the judge scores',
        }),
        concurrency: count(D.judge.concurrency, 'judge calls in flight at once', 1_000),
        queueSize: count(D.judge.queueSize, 'judge calls waiting at most; beyond it they are dropped'),
        timeoutMs: ms(D.judge.timeoutMs, 'deadline of one judge call'),
      },
      'judge similarity of sampled shadow pairs (off the response path)',
    ),
    pins: section(
      {
        cacheSize: count(DEFAULT_PIN_STORE_CONFIG.cacheSize, 'session pins held in memory per process'),
        flushIntervalMs: ms(
          DEFAULT_PIN_STORE_CONFIG.flushIntervalMs,
          'memory driver: how often changed pins are saved',
        ),
        commandTimeoutMs: ms(
          DEFAULT_PIN_STORE_CONFIG.commandTimeoutMs,
          'redis driver: bound on a pin lookup',
        ),
        cutRefreshMs: ms(
          DEFAULT_PIN_STORE_CONFIG.cutRefreshMs,
          'redis driver: how often hard cuts are picked up',
        ),
      },
      'session pins (the driver, URL and prefix come from the cache section)',
    ),
  },
  'the request path: timeouts, limits, breaker, shadow mode, telemetry, session pins',
);
export type GatewayConfigSection = Static<typeof GatewayConfigSchema>;
