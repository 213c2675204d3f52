import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { clearCompiledContracts } from '../src/contracts/compiled-contracts.js';
import { loadBfclContractCases } from '../src/contracts/test-support/contract-fixtures.js';
import { SqlDriftProfileStore } from '../src/gateway/drift/drift-store.js';
import { SqlFeedbackStore } from '../src/gateway/feedback/feedback-store.js';
import { createGateway } from '../src/gateway/gateway.js';
import { createSessionPinStore, DEFAULT_PIN_STORE_CONFIG } from '../src/gateway/pins/create-pin-store.js';
import { SqlShadowResultSink } from '../src/gateway/shadow/shadow-sink.js';
import { checkToolCalls } from '../src/gateway/validation/response-check.js';
import { createHttpApp } from '../src/http/create-http-app.js';
import { InProcessChangeBus } from '../src/registry/change-bus.js';
import { RegistryService } from '../src/registry/registry-service.js';
import { SnapshotManager } from '../src/registry/snapshot-manager.js';
import { SqlRegistryStore } from '../src/registry/sql-registry-store.js';
import { systemClock } from '../src/shared/clock.js';
import { migrate } from '../src/storage/migrations.js';
import { MIGRATIONS } from '../src/storage/schema.js';
import { SqliteDatabase } from '../src/storage/sqlite-database.js';
import { SqlTelemetryEventStore } from '../src/telemetry/sql-telemetry-store.js';
import { compareOnOff, FORECAST } from './on-off-saturation.js';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : dflt;
};

// ---- the gateway under test (child process) ------------------------------------------------

async function target(validation: boolean): Promise<void> {
  const upstream = process.env.UPSTREAM_URL ?? 'http://127.0.0.1:9000';
  const dir = mkdtempSync(join(tmpdir(), 'sy-vbench-'));
  const clock = systemClock;
  const logger = pino({ level: 'warn' });
  const db = new SqliteDatabase(join(dir, 'switchyard.db'));
  await migrate(db, MIGRATIONS);
  const store = new SqlRegistryStore(db);
  const bus = new InProcessChangeBus();
  const registry = new RegistryService(store, bus, clock);
  const ctx = { actor: 'bench' };
  await registry.seedDefaultGroups(ctx);
  await registry.createModel(ctx, {
    id: 'bench-2026-01',
    channel: 'bench',
    providerKind: 'openai-compatible',
    upstreamModel: 'sim-bench',
    endpoint: `${upstream}/v1`,
    lifecycle: 'active',
  });
  await registry.createTenant(ctx, { id: 'bench', name: 'bench', failurePolicy: 'coerce' });
  const { secret } = await registry.createApiKey(ctx, 'bench', { label: 'bench' });
  await registry.bindChannel(ctx, 'bench', { channel: 'bench', stableVersionId: 'bench-2026-01' });
  if (validation) {
    await registry.registerContract(ctx, 'bench', {
      modelVersionId: 'bench-2026-01',
      name: 'get_forecast',
      definition: { kind: 'tool', parameters: FORECAST },
    });
  }
  const snapshots = new SnapshotManager({ store, bus, clock });
  await snapshots.start();
  const pins = await createSessionPinStore(
    { ...DEFAULT_PIN_STORE_CONFIG, driver: 'memory', ttlMs: 24 * 3600_000, prefix: 'switchyard' },
    { clock, db },
  );
  const gateway = createGateway({
    snapshots,
    pins,
    telemetry: new SqlTelemetryEventStore(db),
    feedback: new SqlFeedbackStore(db),
    shadow: new SqlShadowResultSink(db),
    drift: new SqlDriftProfileStore(db),
    logger,
    clock,
  });
  const http = await createHttpApp({ logger, bodyLimitBytes: gateway.config.bodyLimitBytes });
  await http.register(gateway.plugin);
  const url = await http.listen({ host: '127.0.0.1', port: 0 });
  process.send?.({ url, key: secret });
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'stats') process.send?.({ type: 'stats', stats: gateway.stats().validation });
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
}

// ---- (a) validation per call ----------------------------------------------------------------

interface Spread {
  calls: number;
  medianUs: number;
  p99Us: number;
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function perCall(rounds: number, reps: number): Promise<Spread> {
  clearCompiledContracts();
  const cases = await loadBfclContractCases();
  const subjects = cases.map((c) => ({
    contracts: c.contracts,
    calls: [{ id: 'call_1', name: c.golden.toolName, arguments: JSON.stringify(c.golden.arguments) }],
  }));
  // Compile every validator first: the request path meets a compiled (cached) contract.
  for (const s of subjects) checkToolCalls(s.contracts, s.calls);
  const perSubject = subjects.map(() => [] as number[]);
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    subjects.forEach((s, i) => {
      const t0 = process.hrtime.bigint();
      for (let k = 0; k < reps; k++) sink += checkToolCalls(s.contracts, s.calls).invalid.length;
      perSubject[i]?.push(Number(process.hrtime.bigint() - t0) / 1000 / reps);
    });
  }
  if (sink < 0) console.log(sink);
  const costs = Float64Array.from(
    perSubject.map((xs) => Float64Array.from(xs).sort()[Math.floor(xs.length / 2)] ?? Number.NaN),
  ).sort();
  return { calls: costs.length, medianUs: quantile(costs, 0.5), p99Us: quantile(costs, 0.99) };
}

// ---- (b) saturation, validation on vs off -----------------------------------------------------

async function main(): Promise<void> {
  if (cpus().length < 2) throw new Error('the benchmark needs two cores');
  const durationMs = arg('duration-ms', 3000);
  const rounds = arg('rounds', 2);
  const t0 = Date.now();
  process.stderr.write('validation per call (BFCL)...\n');
  const a = await perCall(7, 40);
  const { cells, summary, onStats } = await compareOnOff('gateway-validation-bench.ts', durationMs, rounds);
  const out = {
    benchmark: 'gateway-validation',
    at: new Date().toISOString(),
    env: {
      node: process.version,
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      loadavg1m: loadavg()[0],
      durationMs,
      rounds,
      layout: 'simulator and load generator on core 0; each gateway alone on core 1 (taskset -a)',
      wallSeconds: (Date.now() - t0) / 1000,
    },
    validationPerCall: a,
    saturation: { cells, summary, validatingGatewayCounters: onStats },
  };
  writeFileSync(join(here, 'results', 'gateway-validation.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(
    `\nvalidation per tool call over ${a.calls} BFCL schemas: median ${a.medianUs.toFixed(2)} µs, p99 ${a.p99Us.toFixed(2)} µs`,
  );
  for (const s of summary) {
    console.log(
      `${s.pass ? 'PASS' : 'FAIL'}  ${s.mode}: validation on ${s.onRps.toFixed(0)} req/s vs off ${s.offRps.toFixed(0)} = ${(s.ratio * 100).toFixed(1)}%; CPU/req ${s.onCpuUsPerRequest.toFixed(0)} vs ${s.offCpuUsPerRequest.toFixed(0)} µs = ${(s.cpuCapacityRatio * 100).toFixed(1)}% capacity (${s.target})`,
    );
  }
}

const which = process.argv[process.argv.indexOf('--target') + 1];
if (process.argv.includes('--target')) await target(which === 'on');
else await main();
