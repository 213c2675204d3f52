import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';
import { adminApi } from '../admin/admin-api.js';
import { AdminAuth } from '../admin/admin-auth.js';
import { type Bets, createBets } from '../bets/bets-module.js';
import type { Config } from '../config/config-schema.js';
import { dashboardPlugin } from '../dashboard/dashboard-plugin.js';
import { SqlDriftProfileStore } from '../gateway/drift/drift-store.js';
import { type DriftProfileReader, DriftTracker } from '../gateway/drift/drift-tracker.js';
import { type FeedbackStore, SqlFeedbackStore } from '../gateway/feedback/feedback-store.js';
import { createGateway, type Gateway } from '../gateway/gateway.js';
import { createSessionPinStore } from '../gateway/pins/create-pin-store.js';
import type { SessionPinStore } from '../gateway/pins/session-pin-store.js';
import { SqlShadowResultSink } from '../gateway/shadow/shadow-sink.js';
import { guardConfig } from '../guard/config.js';
import { createHttpApp, type HttpApp } from '../http/create-http-app.js';
import { healthRoutes } from '../http/health-routes.js';
import { metricsRoute } from '../http/metrics-route.js';
import { HttpProviderClient } from '../providers/http-provider-client.js';
import { type ChangeBus, InProcessChangeBus } from '../registry/change-bus.js';
import { RedisChangeBus } from '../registry/redis-change-bus.js';
import { RegistryService } from '../registry/registry-service.js';
import type { RegistryStore } from '../registry/registry-store.js';
import { SnapshotManager } from '../registry/snapshot-manager.js';
import { SqlRegistryStore } from '../registry/sql-registry-store.js';
import { BetsServicesGate } from '../rollout/bets-gate.js';
import { ClassificationScheduler } from '../rollout/classification/classification-scheduler.js';
import { ClassificationService } from '../rollout/classification/classification-service.js';
import { SqlClassificationStore } from '../rollout/classification/classification-store.js';
import { OutboxNotifier, RolloutController } from '../rollout/controller.js';
import {
  BoundedFailingCallSampler,
  CombinedFailingCallSamples,
  ShadowFailingCallSamples,
  sampleOfInvalidCall,
} from '../rollout/failing-call-samples.js';
import { SqlIncidentStore } from '../rollout/incident.js';
import { LeaderLease } from '../rollout/leader-lease.js';
import { resolveWebhooks, SqlNotificationOutbox, WebhookDispatcher } from '../rollout/notifications.js';
import { TelemetryCandidateSessions } from '../rollout/sessions.js';
import { SqlRolloutStore } from '../rollout/sql-rollout-store.js';
import { UpgradeService } from '../rollout/upgrade-service.js';
import { type Clock, systemClock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import type { SqlDatabase } from '../storage/sql-database.js';
import { createObservability } from '../telemetry/export/observability.js';
import { rolloutPhaseCounts } from '../telemetry/export/rollout-phases.js';
import { ObservedTelemetryStore } from '../telemetry/observed-store.js';
import { TelemetryRetention } from '../telemetry/retention/telemetry-retention.js';
import { RetryingTelemetryEventStore, sinkStatsWithBacklog } from '../telemetry/retrying-event-store.js';
import { RollupAggregator } from '../telemetry/rollups/rollup-aggregator.js';
import { RollupSignalSource } from '../telemetry/rollups/rollup-signal-source.js';
import { SqlRollupStore } from '../telemetry/rollups/sql-rollup-store.js';
import { SqlTelemetryEventStore } from '../telemetry/sql-telemetry-store.js';
import { SqliteWorkerTelemetryStore } from '../telemetry/sqlite-worker-telemetry-store.js';
import { ensureAdminAccess } from './bootstrap-token.js';
import { openStorage } from './open-storage.js';
import { modelTrafficRefused, type ProcessRole, roleParts } from './process-role.js';

export interface SwitchyardOptions {
  logger?: Logger;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  /** Overrides `config.process.role` (what `serve --role` does). */
  role?: ProcessRole;
}

/**
 * A wired Switchyard process of any role. Everything is built here and only here (the composition
 * root). The parts a role does not run are null: a `controller` has no gateway, telemetry pipeline
 * or rollups of its own; a `gateway` has no rollout controller.
 */
export interface SwitchyardProcess
  extends Omit<Switchyard, 'role' | 'gateway' | 'controller' | 'telemetry' | 'rollups'> {
  role: ProcessRole;
  gateway: Gateway | null;
  controller: RolloutController | null;
  telemetry: ObservedTelemetryStore | null;
  rollups: RollupAggregator | null;
}

/** A wired Switchyard process with every part (role `all`): the embedded default, the demo, tests. */
export interface Switchyard {
  role: 'all';
  config: Config;
  logger: Logger;
  db: SqlDatabase;
  store: RegistryStore;
  bus: ChangeBus;
  registry: RegistryService;
  snapshots: SnapshotManager;
  gateway: Gateway;
  bets: Bets;
  /** Layer 4: upgrades and the rollout controller (ticking on its own; `runOnce` for tests). */
  upgrades: UpgradeService;
  controller: RolloutController;
  rollouts: SqlRolloutStore;
  incidents: SqlIncidentStore;
  /** The session pin store the gateway routes with (the controller hard-cuts through it). */
  pins: SessionPinStore;
  /** Where telemetry batches go: the SQL store, then the rollups, metrics and traces. */
  telemetry: ObservedTelemetryStore;
  rollups: RollupAggregator;
  http: HttpApp;
  /** Starts listening; resolves to the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** Every part in one process (role `all`); refuses a configuration that asks for another role. */
export async function createSwitchyard(config: Config, opts: SwitchyardOptions = {}): Promise<Switchyard> {
  const role = opts.role ?? config.process.role;
  if (role !== 'all') {
    throw new Error(`createSwitchyard builds role all, not ${role}: use createSwitchyardProcess`);
  }
  const app = await createSwitchyardProcess(config, { ...opts, role });
  if (!isWholeProcess(app)) throw new Error('a process of role all lacks a part');
  return app;
}

/** Whether a process has every part (role `all`). */
export function isWholeProcess(p: SwitchyardProcess): p is Switchyard {
  return (
    p.role === 'all' &&
    p.gateway !== null &&
    p.controller !== null &&
    p.rollups !== null &&
    p.telemetry !== null
  );
}

/** A process of the configured role (`config.process.role`, or `opts.role`). */
export async function createSwitchyardProcess(
  config: Config,
  opts: SwitchyardOptions = {},
): Promise<SwitchyardProcess> {
  const logger = opts.logger ?? pino({ level: config.log.level, base: { pid: process.pid } });
  const clock = opts.clock ?? systemClock;
  const env = opts.env ?? process.env;
  const role = opts.role ?? config.process.role;
  const { servesModels, runsControlLoops } = roleParts(role);

  const db = await openStorage(config);
  const store = new SqlRegistryStore(db);
  const bus: ChangeBus =
    config.cache.driver === 'redis'
      ? new RedisChangeBus({ url: config.cache.redisUrl ?? '', prefix: config.cache.prefix })
      : new InProcessChangeBus();
  const registry = new RegistryService(store, bus, clock);
  await registry.seedDefaultGroups({ actor: 'system:seed', reason: 'default rollout groups' });

  const snapshots = new SnapshotManager({
    store,
    bus,
    clock,
    busCheckIntervalMs: config.snapshot.busCheckIntervalMs,
    storeCheckIntervalMs: config.snapshot.storeCheckIntervalMs,
    onError: (err) => logger.warn({ err }, 'routing snapshot reload failed; serving the previous one'),
  });
  await snapshots.start();

  // Gateways route with the pins; controllers hard-cut through them.
  const { pins: pinTuning, ...gatewayConfig } = config.gateway;
  const pins = await createSessionPinStore(
    {
      ...pinTuning,
      driver: config.cache.driver,
      redisUrl: config.cache.redisUrl,
      prefix: config.cache.prefix,
      ttlMs: config.gateway.sessionPinTtlMs,
    },
    { clock, db, onError: (err) => logger.debug({ err }, 'session pin store') },
  );
  // One pooled upstream client, shared by the gateway and BETS runs (which every role may start:
  // the controller's gate, or `suites run` through any process's admin API).
  const provider = new HttpProviderClient({
    connectTimeoutMs: config.gateway.connectTimeoutMs,
    headersTimeoutMs: config.gateway.headersTimeoutMs,
    bodyTimeoutMs: config.gateway.bodyTimeoutMs,
    maxConnectionsPerOrigin: config.gateway.maxConnectionsPerOrigin,
    keepAliveTimeoutMs: config.gateway.keepAliveTimeoutMs,
    env,
  });
  const rollouts = new SqlRolloutStore(db);
  // Failing tool calls the gateway saw, kept in memory for incident reports: only a process that
  // is both gateway and controller can use them (elsewhere incidents sample shadow results).
  const failingCalls = role === 'all' ? new BoundedFailingCallSampler() : null;
  let gateway: Gateway | null = null;
  // Prometheus metrics and OpenTelemetry traces, derived from telemetry batches off the response path.
  const observability = createObservability(config.observability, {
    env,
    versionLookup: (id) => snapshots.current().models.get(id),
    ...(servesModels
      ? {
          telemetrySink: () => {
            const sink = (gateway as Gateway).stats().telemetry;
            return rawEvents ? sinkStatsWithBacklog(sink, rawEvents.stats()) : sink;
          },
        }
      : {}),
    rolloutPhases: rolloutPhaseCounts(rollouts),
    onError: (err, source) => logger.warn({ err, source }, 'metrics source or OTLP export failed'),
  });
  const bets = createBets({
    db,
    registry: store,
    providers: provider,
    clock,
    maxInFlight: config.bets.maxInFlight,
    upstreamTenantHeader: config.bets.upstreamTenantHeader,
    ...(config.bets.requestsPerSecond
      ? { rateLimits: { default: { requestsPerSecond: config.bets.requestsPerSecond } } }
      : {}),
    onError: (err, context) => logger.warn({ err, context }, 'bets'),
    onVerdict: (v) => observability.recordVerdict(v),
  });
  await bets.start();

  // Per-minute rollups: written by the processes that serve traffic, read by every process (the
  // metrics API, the dashboard, the rollback controller).
  const rollupStore = new SqlRollupStore(db);
  let telemetryStore: ObservedTelemetryStore | null = null;
  let eventWriter: SqliteWorkerTelemetryStore | null = null;
  let rawEvents: RetryingTelemetryEventStore | null = null;
  let rollups: RollupAggregator | null = null;
  if (servesModels) {
    // Every telemetry batch is stored, then shown to the observers that derive rollups and metrics.
    // On an SQLite file the raw events are written from a worker thread (its own connection), so
    // the INSERTs stay off the event loop that serves requests; see docs/architecture.md.
    const sqlitePath = config.storage.driver === 'sqlite' ? config.storage.sqlitePath : ':memory:';
    if (sqlitePath !== ':memory:') {
      eventWriter = new SqliteWorkerTelemetryStore(sqlitePath, (err) =>
        logger.error({ err }, 'the telemetry writer thread failed; it is restarted on the next batch'),
      );
    }
    // A batch whose write failed (the database away) is kept and written when it is back. Under
    // the observers, so rollups and metrics see each batch once, whatever the retries.
    const retrying = new RetryingTelemetryEventStore(
      eventWriter ?? new SqlTelemetryEventStore(db),
      {},
      (err) => logger.warn({ err }, 'telemetry events could not be written; kept for retry'),
    );
    rawEvents = retrying;
    const observed = new ObservedTelemetryStore(retrying, (err) =>
      logger.warn({ err }, 'a telemetry observer failed on a batch'),
    );
    // Rollups of every batch, feedback report and judge score. Only traffic-serving processes are
    // writers: a writer's heartbeat is what "settled" waits for, so a process without traffic
    // would only add a writer to wait for.
    const aggregator = new RollupAggregator(
      rollupStore,
      clock,
      {
        flushIntervalMs: config.telemetry.rollupFlushIntervalMs,
        graceMs: config.telemetry.rollupGraceMs,
        maxOpenRows: config.telemetry.rollupMaxOpenRows,
        maxPendingRows: config.telemetry.rollupMaxPendingRows,
      },
      (err) => logger.warn({ err }, 'telemetry rollups could not be written; kept for retry'),
    );
    observed.add(aggregator);
    for (const o of observability.observers) observed.add(o);
    const sqlFeedback = new SqlFeedbackStore(db);
    const feedback: FeedbackStore = {
      append: async (r) => {
        await sqlFeedback.append(r);
        aggregator.recordFeedback(r);
      },
      listForTenant: (t, since, limit) => sqlFeedback.listForTenant(t, since, limit),
    };
    gateway = createGateway({
      snapshots,
      provider,
      capture: bets.captureSink,
      pins,
      clock,
      logger,
      env,
      config: gatewayConfig,
      telemetry: observed,
      feedback,
      shadow: new SqlShadowResultSink(db),
      drift: new SqlDriftProfileStore(db),
      judge: { sink: aggregator },
      ...(failingCalls
        ? {
            onInvalidToolCall: (ctx, call) =>
              failingCalls.record(
                ctx.tenantId,
                ctx.versionId,
                sampleOfInvalidCall(call, ctx.requestId, clock.now()),
              ),
          }
        : {}),
    });
    telemetryStore = observed;
    rollups = aggregator;
  }
  // The drift profiles the admin API shows: the gateway's (store plus its unsaved counts), or on a
  // controller the store alone (a tracker that records nothing and is never started).
  const drift: DriftProfileReader =
    gateway?.drift ??
    new DriftTracker(new SqlDriftProfileStore(db), {
      flushIntervalMs: 60_000,
      now: () => clock.now(),
      onError: (err) => logger.warn({ err }, 'drift profiles'),
    });

  // Safe in every process (PostgreSQL serializes it with an advisory lock, SQLite with its write
  // lock); run by the controllers.
  const retention = runsControlLoops
    ? new TelemetryRetention(
        db,
        clock,
        {
          retentionDays: config.telemetry.retentionDays,
          partitionsAheadDays: config.telemetry.partitionsAheadDays,
          intervalMs: config.telemetry.maintenanceIntervalMs,
        },
        (err) => logger.warn({ err }, 'telemetry retention failed; retried next run'),
      )
    : null;
  retention?.start();

  const classificationRecords = new SqlClassificationStore(db);
  const classification = new ClassificationService({
    registry,
    store,
    records: classificationRecords,
    clock,
    rollouts,
    regressionWindowDays: config.classification.regressionWindowDays,
  });
  // Any controller may run it: the schedule row lets one run per interval across processes.
  const classificationScheduler =
    runsControlLoops && config.classification.enabled
      ? new ClassificationScheduler({
          service: classification,
          store: classificationRecords,
          clock,
          intervalDays: config.classification.intervalDays,
          holder: `${hostname()}:${process.pid}`,
          onError: (err) => logger.warn({ err }, 'scheduled classification failed; retried later'),
          onRun: (r) =>
            logger.info(
              { moves: r.moves.length, held: r.held.length, failed: r.failed.length },
              'scheduled classification ran',
            ),
        })
      : undefined;
  classificationScheduler?.start();

  // Layer 4: the rollout controller (one leader across processes), its webhooks and incidents.
  const c = config.controller;
  const incidents = new SqlIncidentStore(db);
  let dispatcher: WebhookDispatcher | null = null;
  let controller: RolloutController | null = null;
  if (runsControlLoops) {
    const outbox = new SqlNotificationOutbox(db);
    const webhooks = new WebhookDispatcher({
      outbox,
      endpoints: resolveWebhooks(c.webhooks, env),
      clock,
      onError: (err) => logger.warn({ err }, 'webhook delivery failed; retried with backoff'),
    });
    const guard = Object.keys(c.guard).length > 0 ? guardConfig(c.guard) : undefined;
    controller = new RolloutController(
      {
        rollouts,
        registry,
        registryStore: store,
        clock,
        lease: new LeaderLease(
          db,
          clock,
          'rollout-controller',
          `${hostname()}:${process.pid}:${newId('c')}`,
          c.leaseMs,
        ),
        signals: new RollupSignalSource(rollupStore, clock),
        bets: new BetsServicesGate({ store: bets.store, runs: bets.runs, withoutSuite: c.betsWithoutSuite }),
        pins,
        sessions: new TelemetryCandidateSessions(db),
        incidents,
        notifier: new OutboxNotifier(outbox, webhooks.endpointIds()),
        samples: new CombinedFailingCallSamples([
          new ShadowFailingCallSamples(db),
          ...(failingCalls ? [failingCalls] : []),
        ]),
        ...(guard ? { guard } : {}),
        onError: (err, where) => logger.error({ err, where }, 'rollout controller'),
      },
      { tickMs: c.tickMs, drainTimeoutMs: c.drainTimeoutMs, warmDays: c.warmDays },
    );
    controller.start();
    webhooks.start();
    dispatcher = webhooks;
  }
  const upgrades = new UpgradeService({ rollouts, registry: store, clock });

  const auth = new AdminAuth(store, registry);
  const access = await ensureAdminAccess(config, env, auth, store);
  if (access.file) logger.info({ file: access.file }, 'admin token for the CLI and API is in this file');

  const status = async () => ({
    pid: process.pid,
    role,
    snapshotVersion: snapshots.current().version,
    snapshotTenants: snapshots.current().tenants.size,
    snapshotBuiltAt: new Date(snapshots.current().builtAt).toISOString(),
    /** The registry's version in the database; snapshotVersion trails it while a change propagates. */
    registryVersion: await store.version().catch(() => null),
    snapshotStale: snapshots.stale(),
    storage: { driver: db.dialect, ok: await db.ping() },
    cache: { driver: config.cache.driver, healthy: bus.healthy() },
    gateway: gateway?.stats() ?? null,
    telemetry: {
      events: rawEvents?.stats() ?? null,
      rollups: rollups?.stats() ?? null,
      retention: retention?.stats() ?? null,
    },
  });

  const http = await createHttpApp({ logger, bodyLimitBytes: config.server.bodyLimitBytes });
  if (observability.metrics) {
    await http.register(
      metricsRoute({ metrics: observability.metrics, bearerToken: env.SWITCHYARD_METRICS_TOKEN }),
    );
  }
  await http.register(
    healthRoutes({ db, bus, snapshots, role, degraded: () => gateway?.health().degraded ?? [] }),
  );
  await http.register(
    adminApi({
      registry,
      store,
      auth,
      status,
      bets: bets.routes,
      classification: { service: classification, store },
      metrics: { rollups: rollupStore, store, clock },
      drift,
      upgrades: { upgrades, incidents },
    }),
    {
      prefix: '/admin/v1',
    },
  );
  await http.register(gateway ? gateway.plugin : modelTrafficRefused(role));
  await http.register(
    dashboardPlugin({
      auth,
      store,
      rollouts,
      bets: bets.store,
      rollups: rollupStore,
      clock,
      onError: (err, where) => logger.warn({ err, where }, 'dashboard'),
    }),
    { prefix: '/dashboard' },
  );

  return {
    role,
    config,
    logger,
    db,
    store,
    bus,
    registry,
    snapshots,
    gateway,
    bets,
    upgrades,
    controller,
    rollouts,
    incidents,
    pins,
    telemetry: telemetryStore,
    rollups,
    http,
    async listen() {
      return http.listen({ host: config.server.host, port: config.server.port });
    },
    async close() {
      await http.close();
      await controller?.stop();
      await dispatcher?.stop();
      await classificationScheduler?.stop();
      await bets.close();
      // The gateway closes the shared upstream client; without one, close it here.
      if (gateway) await gateway.close();
      else await provider.close();
      // After the gateway, whose close flushed the last telemetry batch into the rollups.
      await rawEvents?.close();
      await eventWriter?.close();
      await rollups?.close();
      await observability.close();
      await retention?.stop();
      await pins.close();
      await snapshots.stop();
      await bus.close();
      await db.close();
    },
  };
}
