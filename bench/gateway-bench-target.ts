/**
 * The Switchyard gateway as the benchmark runs it: the embedded mode with everything on the
 * request path enabled. SQLite registry (file), API-key auth, canary routing at 10% with session
 * pins (memory, persisted behind to SQLite), telemetry batched into SQLite. Reports URL and key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SqlFeedbackStore } from '../src/gateway/feedback/feedback-store.js';
import { createGateway } from '../src/gateway/gateway.js';
import { GATEWAY_MIGRATION } from '../src/gateway/migration.js';
import { createSessionPinStore, DEFAULT_PIN_STORE_CONFIG } from '../src/gateway/pins/create-pin-store.js';
import { SqlShadowResultSink } from '../src/gateway/shadow/shadow-sink.js';
import { createHttpApp } from '../src/http/create-http-app.js';
import { InProcessChangeBus } from '../src/registry/change-bus.js';
import { RegistryService } from '../src/registry/registry-service.js';
import { SnapshotManager } from '../src/registry/snapshot-manager.js';
import { SqlRegistryStore } from '../src/registry/sql-registry-store.js';
import { systemClock } from '../src/shared/clock.js';
import { migrate } from '../src/storage/migrations.js';
import { MIGRATIONS } from '../src/storage/schema.js';
import { SqliteDatabase } from '../src/storage/sqlite-database.js';
import { TELEMETRY_MIGRATION } from '../src/telemetry/migration.js';
import { SqlTelemetryEventStore } from '../src/telemetry/sql-telemetry-store.js';

const upstream = process.env.UPSTREAM_URL ?? 'http://127.0.0.1:9000';
const dir = mkdtempSync(join(tmpdir(), 'sy-bench-'));
const clock = systemClock;
const logger = pino({ level: 'warn' });

const db = new SqliteDatabase(join(dir, 'switchyard.db'));
await migrate(db, [...MIGRATIONS, GATEWAY_MIGRATION, TELEMETRY_MIGRATION]);
const store = new SqlRegistryStore(db);
const bus = new InProcessChangeBus();
const registry = new RegistryService(store, bus, clock);
const ctx = { actor: 'bench' };
await registry.seedDefaultGroups(ctx);
for (const [id, model] of [
  ['bench-2026-01', 'sim-bench'],
  ['bench-2026-02', 'sim-bench-2'],
] as const) {
  await registry.createModel(ctx, {
    id,
    channel: 'bench',
    providerKind: 'openai-compatible',
    upstreamModel: model,
    endpoint: `${upstream}/v1`,
    lifecycle: 'active',
  });
}
await registry.createTenant(ctx, { id: 'bench', name: 'bench' });
const { secret } = await registry.createApiKey(ctx, 'bench', { label: 'bench' });
await registry.bindChannel(ctx, 'bench', {
  channel: 'bench',
  stableVersionId: 'bench-2026-01',
  candidateVersionId: 'bench-2026-02',
  canaryPercent: 10,
  upgradeId: 'upg-bench',
});
const snapshots = new SnapshotManager({ store, bus, clock });
await snapshots.start();

const pins = await createSessionPinStore(
  { ...DEFAULT_PIN_STORE_CONFIG, driver: 'memory', ttlMs: 24 * 3600_000, prefix: 'switchyard' },
  { clock, db },
);
const telemetry = new SqlTelemetryEventStore(db);
const gateway = createGateway({
  snapshots,
  pins,
  telemetry,
  feedback: new SqlFeedbackStore(db),
  shadow: new SqlShadowResultSink(db),
  logger,
  clock,
});
const http = await createHttpApp({ logger, bodyLimitBytes: gateway.config.bodyLimitBytes });
await http.register(gateway.plugin);
const url = await http.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ url, key: secret });

process.on('message', (m: { type?: string }) => {
  if (m.type === 'stats') process.send?.({ type: 'stats', stats: gateway.stats() });
});
process.on('disconnect', () => {
  void (async () => {
    const closing = http.close();
    http.server.closeAllConnections();
    await closing;
    await gateway.close();
    await pins.close();
    await snapshots.stop();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  })();
});
