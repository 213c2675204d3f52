import type { FastifyPluginAsync } from 'fastify';
import { compareResponses } from '../contracts/drift-compare.js';
import { HttpProviderClient } from '../providers/http-provider-client.js';
import type { ProviderClient } from '../providers/provider-types.js';
import type { RoutingSnapshot } from '../registry/routing-snapshot.js';
import type { Clock } from '../shared/clock.js';
import { BatchingSink, type SinkStats } from '../telemetry/batching-sink.js';
import type { TelemetryEvent, TelemetryEventStore } from '../telemetry/telemetry-event.js';
import { BreakerRegistry, type BreakerState } from './circuit-breaker.js';
import type { DriftProfileStore } from './drift/drift-store.js';
import { type DriftProfileReader, DriftTracker } from './drift/drift-tracker.js';
import type { FeedbackStore } from './feedback/feedback-store.js';
import { type GatewayConfig, type GatewayConfigInput, resolveGatewayConfig } from './gateway-config.js';
import { type GatewayCounters, type GatewayLogger, newCounters } from './gateway-types.js';
import type { ComponentHealth } from './health.js';
import type { PinStoreStats, SessionPinStore } from './pins/session-pin-store.js';
import { gatewayRoutes } from './routes.js';
import { Router } from './routing/router.js';
import { ShadowJudge, type ShadowJudgeDeps } from './shadow/shadow-judge.js';
import { ShadowRunner, type ShadowStats } from './shadow/shadow-runner.js';
import type { ShadowResult, ShadowResultSink, ShadowSide } from './shadow/shadow-sink.js';
import { noCapture, type TrafficCapture } from './tool-call-check.js';
import { UpstreamCaller } from './upstream-call.js';
import {
  ContractEnforcer,
  type InvalidCallObserver,
  type ValidationCounters,
} from './validation/contract-enforcer.js';

export interface GatewayDeps {
  /** The routing snapshot source (the SnapshotManager); read once per request, never the database. */
  snapshots: { current(): RoutingSnapshot };
  pins: SessionPinStore;
  telemetry: TelemetryEventStore;
  feedback: FeedbackStore;
  shadow: ShadowResultSink;
  logger: GatewayLogger;
  clock: Clock;
  config?: GatewayConfigInput;
  /** Defaults to the pooled HTTP client; tests may substitute one. */
  provider?: ProviderClient;
  /** Where `env:NAME` credentials are read from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where drift profiles are saved; without it they live in this process's memory only. */
  drift?: DriftProfileStore;
  /** Judge similarity of sampled shadow pairs; without it nothing is judged. */
  judge?: ShadowJudgeDeps;
  /** Offered every successful answer, for opt-in traffic capture (BETS). */
  capture?: TrafficCapture;
  /** Told of every tool call that broke a contract (incident reports keep samples); must not block. */
  onInvalidToolCall?: InvalidCallObserver;
  /** Uniform in [0, 1), for shadow sampling. */
  random?: () => number;
}

export interface GatewayHealth {
  /** Names of what is down or failing; the gateway still serves (degraded). Empty when all is well. */
  degraded: string[];
  components: ComponentHealth[];
}

export interface GatewayStats {
  counters: GatewayCounters;
  telemetry: SinkStats;
  shadow: ShadowStats;
  validation: ValidationCounters;
  judge: ReturnType<ShadowJudge['stats']> | null;
  pins: PinStoreStats;
  breakers: Array<{ versionId: string; state: BreakerState }>;
}

export interface Gateway {
  /** Register on the HTTP app at the root: `await http.register(gateway.plugin)`. */
  plugin: FastifyPluginAsync;
  config: GatewayConfig;
  /** The pooled upstream client; other callers of providers (BETS runs) share its connections. */
  provider: ProviderClient;
  /** Drift profiles per tenant and channel, for the admin API and the rollback controller. */
  drift: DriftProfileReader;
  /** The coercion ledger's raised regression signals (tenant and version over the cap). */
  coercionSignals(): ReturnType<ContractEnforcer['ledger']['signals']>;
  health(): GatewayHealth;
  stats(): GatewayStats;
  /** Waits for queued shadow calls and writes buffered telemetry and shadow results (tests; shutdown). */
  settle(): Promise<void>;
  /** Stops background work and closes upstream connections. Close the HTTP server first. */
  close(): Promise<void>;
}

/** Logs a recurring background failure at most once per interval (a dead database must not flood logs). */
function throttled(logger: GatewayLogger, msg: string, everyMs = 30_000): (err: unknown) => void {
  let last = 0;
  return (err) => {
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    logger.warn({ err }, msg);
  };
}

function observed(side: ShadowSide) {
  return {
    toolCalls: side.toolCalls.map((c) => ({ name: c.name, argumentsText: c.arguments, id: c.id })),
    text: side.text,
  };
}

/** Builds the data plane (Layer 3): routes, upstream pool, breakers, shadow queue and telemetry pipeline. */
export function createGateway(deps: GatewayDeps): Gateway {
  const config = resolveGatewayConfig(deps.config);
  const provider =
    deps.provider ??
    new HttpProviderClient({
      connectTimeoutMs: config.connectTimeoutMs,
      headersTimeoutMs: config.headersTimeoutMs,
      bodyTimeoutMs: config.bodyTimeoutMs,
      maxConnectionsPerOrigin: config.maxConnectionsPerOrigin,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      ...(deps.env ? { env: deps.env } : {}),
    });
  const caller = new UpstreamCaller(provider, config);
  const telemetry = new BatchingSink<TelemetryEvent>(
    (batch) => deps.telemetry.append(batch),
    config.telemetry,
    throttled(deps.logger, 'telemetry events could not be written; they are dropped and counted'),
  );
  const drift = new DriftTracker(deps.drift ?? null, {
    flushIntervalMs: config.drift.flushIntervalMs,
    now: () => deps.clock.now(),
    onError: throttled(deps.logger, 'drift profiles could not be saved; they are kept and retried'),
  });
  drift.start();
  const random = deps.random ?? Math.random;
  const judge = deps.judge
    ? new ShadowJudge(
        provider,
        deps.snapshots,
        config.judge,
        deps.judge,
        random,
        config.maxResponseBytes,
        throttled(deps.logger, 'a judge call on a shadow pair failed'),
      )
    : null;
  const onPair = (pair: ShadowResult) => {
    if (pair.candidate.error === null && pair.candidate.status === 200) {
      drift.recordPair(
        pair.tenantId,
        pair.channel,
        pair.stable.versionId,
        pair.candidate.versionId,
        compareResponses(observed(pair.stable), observed(pair.candidate)),
      );
    }
    judge?.offer(pair);
  };
  const shadow = new ShadowRunner(
    caller,
    deps.shadow,
    config.shadow,
    throttled(deps.logger, 'shadow results could not be written; they are dropped and counted'),
    onPair,
  );
  const enforcer = new ContractEnforcer(config.validation, deps.clock, deps.logger, deps.onInvalidToolCall);
  const breakers = new BreakerRegistry(config.breaker, deps.clock);
  const counters = newCounters();
  const exchange = {
    snapshots: deps.snapshots,
    router: new Router(deps.pins, deps.clock, config.sessionPinTtlMs),
    breakers,
    caller,
    shadow,
    telemetry,
    enforcer,
    drift,
    capture: deps.capture ?? noCapture,
    clock: deps.clock,
    config,
    random,
    counters,
    logger: deps.logger,
  };

  const health = (): GatewayHealth => {
    const t = telemetry.stats();
    const s = shadow.stats().sink;
    const components: ComponentHealth[] = [
      deps.pins.health(),
      { name: 'telemetry', healthy: t.lastError === null, detail: t.lastError },
      { name: 'shadow-results', healthy: s.lastError === null, detail: s.lastError },
      ...breakers.notClosed().map((b) => ({
        name: `model-version:${b.versionId}`,
        healthy: false,
        detail: `circuit ${b.state.replace('_', '-')}`,
      })),
    ];
    return { degraded: components.filter((c) => !c.healthy).map((c) => c.name), components };
  };

  return {
    plugin: gatewayRoutes({
      exchange,
      feedback: { snapshots: deps.snapshots, pins: deps.pins, feedback: deps.feedback, clock: deps.clock },
      bodyLimitBytes: config.bodyLimitBytes,
    }),
    config,
    provider,
    drift,
    coercionSignals: () => enforcer.ledger.signals(),
    health,
    stats: () => ({
      counters,
      telemetry: telemetry.stats(),
      shadow: shadow.stats(),
      validation: enforcer.counters,
      judge: judge?.stats() ?? null,
      pins: deps.pins.stats(),
      breakers: breakers.notClosed(),
    }),
    async settle() {
      await shadow.settle();
      await judge?.settle();
      await telemetry.flush();
      await drift.flush();
    },
    async close() {
      await shadow.close();
      await judge?.close();
      await telemetry.close();
      await drift.close();
      await provider.close();
    },
  };
}
