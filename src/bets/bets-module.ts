import type { ProviderClient } from '../providers/provider-types.js';
import type { RegistryStore } from '../registry/registry-store.js';
import { type Clock, systemClock } from '../shared/clock.js';
import type { SqlDatabase } from '../storage/sql-database.js';
import type { BetsRouteDeps } from './api/bets-routes.js';
import { BatchingCaptureSink } from './capture/capture-sink.js';
import { DEFAULT_REFRESH, type RefreshOptions, RefreshService } from './capture/refresh-service.js';
import { FleetService } from './fleet-service.js';
import { type Price, Pricing } from './pricing.js';
import { ProviderCaller, type RetryPolicy } from './provider-caller.js';
import { ProviderRateLimits, type RateLimitConfig, Semaphore } from './rate-limit.js';
import type { ResultWriterOptions } from './result-writer.js';
import { RunService } from './run-service.js';
import type { AlertPort, AttemptResult, TenantVerdict } from './run-types.js';
import { SqlBetsStore } from './sql-bets-store.js';
import { SuiteService } from './suite-service.js';

export interface BetsOptions {
  db: SqlDatabase;
  registry: RegistryStore;
  providers: ProviderClient;
  clock: Clock;
  /** Requests per second per provider origin; shared by every run of the process. */
  rateLimits?: RateLimitConfig;
  /** Token prices by model version id or upstream model name. */
  prices?: Record<string, Price>;
  /** Provider calls in flight across all runs of the process (default 64). */
  maxInFlight?: number;
  /** Calls in flight per run unless the run asks otherwise (default 8). */
  defaultConcurrency?: number;
  retry?: RetryPolicy;
  refresh?: RefreshOptions;
  leaseMs?: number;
  heartbeatMs?: number;
  onError?: (err: unknown, context: string) => void;
  /** Called after each attempt result is stored (progress displays, tests). */
  onResult?: (r: AttemptResult) => void;
  resultBatch?: ResultWriterOptions;
  /** The notifier of gate alerts (alerts are recorded in the database either way). */
  alerts?: AlertPort;
  /** Send `x-switchyard-tenant` to providers (the simulator scopes drift by it). */
  upstreamTenantHeader?: boolean;
  /** Told of each tenant verdict after it is committed. */
  onVerdict?: (v: TenantVerdict) => void;
}

/** Everything BETS is made of, wired; the composition root builds one per process. */
export interface Bets {
  store: SqlBetsStore;
  suites: SuiteService;
  runs: RunService;
  fleet: FleetService;
  refresh: RefreshService;
  /** What the gateway calls to capture live traffic (opt-in per tenant). */
  captureSink: BatchingCaptureSink;
  /** For `betsRoutes(...)`. */
  routes: BetsRouteDeps;
  /** Starts capture and resumes runs another (dead) process left unfinished. */
  start(): Promise<void>;
  /** Stops runs (they stay resumable) and flushes captured traffic. */
  close(): Promise<void>;
}

export function createBets(o: BetsOptions): Bets {
  const store = new SqlBetsStore(o.db);
  // Provider limits are about real time, whatever timeline the control plane runs on.
  const limits = new ProviderRateLimits(o.rateLimits ?? {}, systemClock);
  const caller = new ProviderCaller(o.providers, limits, {
    ...(o.retry ? { retry: o.retry } : {}),
    tenantHeader: o.upstreamTenantHeader === true,
  });
  const pricing = new Pricing(o.prices ?? {});
  const runs = new RunService({
    store,
    registry: o.registry,
    caller,
    pricing,
    clock: o.clock,
    global: new Semaphore(o.maxInFlight ?? 64),
    ...(o.defaultConcurrency !== undefined ? { defaultConcurrency: o.defaultConcurrency } : {}),
    ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
    ...(o.heartbeatMs !== undefined ? { heartbeatMs: o.heartbeatMs } : {}),
    onError: (err, runId) => o.onError?.(err, `bets run ${runId}`),
    ...(o.onResult ? { onResult: o.onResult } : {}),
    ...(o.resultBatch ? { resultBatch: o.resultBatch } : {}),
    ...(o.alerts ? { alerts: o.alerts } : {}),
    ...(o.onVerdict ? { onVerdict: o.onVerdict } : {}),
  });
  const suites = new SuiteService(store, o.registry, runs, o.clock);
  const fleet = new FleetService(store, o.registry, runs, o.clock);
  const refresh = new RefreshService(
    store,
    o.registry,
    caller,
    suites,
    o.clock,
    o.refresh ?? DEFAULT_REFRESH,
  );
  const captureSink = new BatchingCaptureSink(store, {
    clock: o.clock,
    onError: (err) => o.onError?.(err, 'bets capture'),
  });
  return {
    store,
    suites,
    runs,
    fleet,
    refresh,
    captureSink,
    routes: { store, registry: o.registry, suites, runs, fleet, refresh, clock: o.clock },
    async start() {
      await captureSink.start();
      await runs.resumeInterrupted();
    },
    async close() {
      await runs.close();
      await captureSink.close();
    },
  };
}
