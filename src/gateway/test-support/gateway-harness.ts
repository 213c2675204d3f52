import pino from 'pino';
import { createHttpApp, type HttpApp } from '../../http/create-http-app.js';
import { InProcessChangeBus } from '../../registry/change-bus.js';
import type { ChannelBind, ContractCreate, ModelCreate } from '../../registry/inputs.js';
import { type ChangeContext, RegistryService } from '../../registry/registry-service.js';
import { SnapshotManager } from '../../registry/snapshot-manager.js';
import { SqlRegistryStore } from '../../registry/sql-registry-store.js';
import type { FailurePolicy } from '../../registry/types.js';
import { type Clock, systemClock } from '../../shared/clock.js';
import { migrate } from '../../storage/migrations.js';
import { MIGRATIONS } from '../../storage/schema.js';
import { SqliteDatabase } from '../../storage/sqlite-database.js';
import { SqlTelemetryEventStore } from '../../telemetry/sql-telemetry-store.js';
import type { TelemetryEventStore } from '../../telemetry/telemetry-event.js';
import { SqlDriftProfileStore } from '../drift/drift-store.js';
import { SqlFeedbackStore } from '../feedback/feedback-store.js';
import { createGateway, type Gateway } from '../gateway.js';
import type { GatewayConfigInput } from '../gateway-config.js';
import type { GatewayLogger } from '../gateway-types.js';
import { MemoryPinStore } from '../pins/memory-pin-store.js';
import type { SessionPinStore } from '../pins/session-pin-store.js';
import { SqlPinPersistence } from '../pins/sql-pin-persistence.js';
import type { ShadowJudgeDeps } from '../shadow/shadow-judge.js';
import { SqlShadowResultSink } from '../shadow/shadow-sink.js';
import type { TrafficCapture } from '../tool-call-check.js';

export interface TenantSpec {
  id: string;
  frozen?: boolean;
  channels: Array<Omit<ChannelBind, 'reason'>>;
  failurePolicy?: FailurePolicy;
  contracts?: Array<Omit<ContractCreate, 'reason'>>;
}

export interface HarnessOptions {
  versions: Array<Omit<ModelCreate, 'reason'>>;
  tenants: TenantSpec[];
  gateway?: GatewayConfigInput;
  clock?: Clock;
  random?: () => number;
  /** Defaults to a memory store persisted to the harness database. */
  pins?: SessionPinStore;
  /** Replaces the SQL telemetry store the gateway writes to (the harness's `telemetry` still reads SQL). */
  telemetryStore?: TelemetryEventStore;
  env?: NodeJS.ProcessEnv;
  capture?: TrafficCapture;
  judge?: ShadowJudgeDeps;
  /** Defaults to a silent pino logger. */
  logger?: GatewayLogger;
}

export interface Harness {
  url: string;
  /** API key secret per tenant id. */
  keys: Record<string, string>;
  db: SqliteDatabase;
  registry: RegistryService;
  snapshots: SnapshotManager;
  gateway: Gateway;
  pins: SessionPinStore;
  telemetry: SqlTelemetryEventStore;
  feedback: SqlFeedbackStore;
  shadow: SqlShadowResultSink;
  http: HttpApp;
  ctx: ChangeContext;
  /** Waits until the gateway routes from the registry's latest version. */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

export const ALL_MIGRATIONS = MIGRATIONS;

/**
 * A whole gateway on an in-memory SQLite registry, built the way the composition root builds it,
 * listening on a free port. Tenants get one API key each.
 */
export async function startGatewayHarness(opts: HarnessOptions): Promise<Harness> {
  const clock = opts.clock ?? systemClock;
  const db = new SqliteDatabase(':memory:');
  await migrate(db, ALL_MIGRATIONS);
  const store = new SqlRegistryStore(db);
  const bus = new InProcessChangeBus();
  const registry = new RegistryService(store, bus, clock);
  const ctx: ChangeContext = { actor: 'test' };
  await registry.seedDefaultGroups(ctx);
  for (const v of opts.versions) await registry.createModel(ctx, { lifecycle: 'active', ...v });
  const keys: Record<string, string> = {};
  for (const t of opts.tenants) {
    await registry.createTenant(ctx, {
      id: t.id,
      name: t.id,
      frozen: t.frozen ?? false,
      ...(t.failurePolicy ? { failurePolicy: t.failurePolicy } : {}),
    });
    keys[t.id] = (await registry.createApiKey(ctx, t.id, { label: 'test' })).secret;
    for (const c of t.channels) await registry.bindChannel(ctx, t.id, c);
    for (const c of t.contracts ?? []) await registry.registerContract(ctx, t.id, c);
  }
  const snapshots = new SnapshotManager({
    store,
    bus,
    clock,
    busCheckIntervalMs: 10_000,
    storeCheckIntervalMs: 60_000,
  });
  await snapshots.start();

  const silent = pino({ level: 'silent' });
  let pins = opts.pins;
  if (!pins) {
    const memory = new MemoryPinStore({
      clock,
      capacity: 100_000,
      maxTtlMs: 24 * 3600_000,
      persistence: new SqlPinPersistence(db),
    });
    await memory.start();
    pins = memory;
  }
  const telemetry = new SqlTelemetryEventStore(db);
  const feedback = new SqlFeedbackStore(db);
  const shadow = new SqlShadowResultSink(db);
  const gateway = createGateway({
    snapshots,
    pins,
    telemetry: opts.telemetryStore ?? telemetry,
    feedback,
    shadow,
    drift: new SqlDriftProfileStore(db),
    logger: opts.logger ?? silent,
    clock,
    ...(opts.judge ? { judge: opts.judge } : {}),
    ...(opts.gateway ? { config: opts.gateway } : {}),
    ...(opts.random ? { random: opts.random } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.capture ? { capture: opts.capture } : {}),
  });
  const http = await createHttpApp({ logger: silent, bodyLimitBytes: gateway.config.bodyLimitBytes });
  await http.register(gateway.plugin);
  const url = await http.listen({ host: '127.0.0.1', port: 0 });
  const pinStore = pins;

  return {
    url,
    keys,
    db,
    registry,
    snapshots,
    gateway,
    pins: pinStore,
    telemetry,
    feedback,
    shadow,
    http,
    ctx,
    async refresh() {
      const v = await store.version();
      while (snapshots.current().version < v) await snapshots.request(v);
    },
    async close() {
      // Node's server.close() never closes a keep-alive connection on which no request was sent
      // yet (HTTP clients open spare ones), so it would wait for the headers timeout. Every
      // request of a test has finished by now: close them all.
      const closing = http.close();
      http.server.closeAllConnections();
      await closing;
      await gateway.close();
      await pinStore.close();
      await snapshots.stop();
      await db.close();
    },
  };
}
