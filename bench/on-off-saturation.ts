/**
 * The saturation comparison two gateway benchmarks share (schema validation on/off, telemetry
 * on/off): a gateway child process per side, built by the benchmark file itself when run with
 * `--target on|off`; the simulator and the load generator on core 0 and each gateway alone on
 * core 1 (taskset), alternating sides each round so a drift in machine load hits both alike.
 * Each gateway's main thread, where every request is handled, has core 1 to itself; after the
 * warm-up its other threads (V8's GC helpers, libuv's pool, the telemetry writer) may also use
 * core 0, on both sides alike: that is where a production gateway's helper threads run (on
 * other cores than its event loop), and it is what moving the SQLite telemetry writes to a
 * worker thread buys. Every answer is a forced tool call, plain and streaming. Reported per mode:
 * the best req/s of each side, the least CPU per request of the main thread (the resource that
 * saturates) and of the whole process (every thread: the total cost), and their ratios.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { SqlDriftProfileStore } from '../src/gateway/drift/drift-store.js';
import { SqlFeedbackStore } from '../src/gateway/feedback/feedback-store.js';
import { createGateway, type Gateway } from '../src/gateway/gateway.js';
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
import type { TelemetryEventStore } from '../src/telemetry/telemetry-event.js';
import type { LoadJob, LoadResult } from './gateway-loadgen.js';

const here = dirname(fileURLToPath(import.meta.url));

export const FORECAST = {
  type: 'object',
  properties: {
    city: { type: 'string', description: 'the city' },
    days: { type: 'integer', minimum: 1, maximum: 14 },
    units: { type: 'string', enum: ['metric', 'imperial'] },
  },
  required: ['city', 'days'],
  additionalProperties: false,
};

export interface SideCell {
  mode: string;
  side: 'on' | 'off';
  round: number;
  rps: number;
  errors: number;
  p50Ms: number;
  /** CPU per request, every thread of the gateway process. */
  cpuUsPerRequest: number;
  /** CPU per request of the gateway's main thread (its event loop). */
  mainCpuUsPerRequest: number;
}

export interface SideSummary {
  mode: string;
  offRps: number;
  onRps: number;
  ratio: number;
  offCpuUsPerRequest: number;
  onCpuUsPerRequest: number;
  /** Whole-process CPU per request, off / on: the total cost of the feature, reported. */
  cpuCapacityRatio: number;
  offMainCpuUsPerRequest: number;
  onMainCpuUsPerRequest: number;
  /** Main-thread CPU per request, off / on: capacity if the event loop is the bottleneck. */
  mainCpuCapacityRatio: number;
  target: string;
  pass: boolean;
}

function start(args: string[], core: string, env: Record<string, string> = {}, file: string) {
  const child = fork(join(here, file), args, {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  if (child.pid) execFileSync('taskset', ['-a', '-p', '-c', core, String(child.pid)], { stdio: 'ignore' });
  return child;
}

function message<T>(child: ChildProcess, pick: (m: unknown) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`child exited with ${code}`));
    const onMessage = (m: unknown) => {
      const v = pick(m);
      if (v === undefined) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(v);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

const SESSIONS = 500;

/**
 * utime + stime in seconds of a whole process (all threads) or, with `mainThread`, of its main
 * thread only: CPU per request survives a shared machine better than req/s.
 */
function cpuSeconds(pid: number, mainThread = false): number {
  const stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The main thread keeps core 1 to itself; every other thread of the process may use either core. */
function pinMainThread(pid: number): void {
  execFileSync('taskset', ['-a', '-p', '-c', '0,1', String(pid)], { stdio: 'ignore' });
  execFileSync('taskset', ['-p', '-c', '1', String(pid)], { stdio: 'ignore' });
}

function bodies(stream: boolean): string[] {
  return Array.from({ length: SESSIONS }, (_, i) =>
    JSON.stringify({
      model: 'bench',
      stream,
      messages: [
        {
          role: 'user',
          content: `Ticket ${i}: what is the forecast for Lisbon for the next ${1 + (i % 9)} days?`,
        },
      ],
      tools: [{ type: 'function', function: { name: 'get_forecast', parameters: FORECAST } }],
      tool_choice: { type: 'function', function: { name: 'get_forecast' } },
    }),
  );
}

/**
 * Runs the comparison: `file` is the benchmark whose `--target on|off` mode starts a gateway and
 * reports `{url, key}`, and answers a `stats` message with whatever the benchmark wants reported.
 */
export async function compareOnOff(
  file: string,
  durationMs: number,
  rounds: number,
): Promise<{ cells: SideCell[]; summary: SideSummary[]; onStats: unknown }> {
  const upstream = start([], '0', {}, 'gateway-bench-upstream.ts');
  const { url: simUrl } = await message(upstream, (m) => m as { url: string });
  const targets = {
    on: start(['--target', 'on'], '1', { UPSTREAM_URL: simUrl }, file),
    off: start(['--target', 'off'], '1', { UPSTREAM_URL: simUrl }, file),
  };
  const loadgen = start([], '0', {}, 'gateway-loadgen.ts');
  const keyOf = (m: unknown) =>
    (m as { key?: string }).key ? (m as { url: string; key: string }) : undefined;
  const gw = { on: await message(targets.on, keyOf), off: await message(targets.off, keyOf) };
  const runJob = (which: 'on' | 'off', stream: boolean, ms: number, warmupMs: number) => {
    const job: LoadJob = {
      origin: gw[which].url,
      path: '/v1/chat/completions',
      bodies: bodies(stream),
      headers: Array.from({ length: SESSIONS }, (_, i) => ({
        'content-type': 'application/json',
        authorization: `Bearer ${gw[which].key}`,
        'x-session-id': `session-${i}`,
      })),
      stream,
      concurrency: 64,
      warmupMs,
      durationMs: ms,
    };
    const done = message(loadgen, (m) =>
      (m as { type?: string }).type === 'result' ? (m as { result: LoadResult }).result : undefined,
    );
    loadgen.send(job);
    return done;
  };
  // Warm both gateways (JIT) before measuring anything.
  for (const which of ['off', 'on'] as const)
    for (const stream of [false, true]) await runJob(which, stream, 1500, 0);
  // After the warm-up, every thread the gateways start lazily exists.
  for (const t of [targets.on, targets.off]) if (t.pid) pinMainThread(t.pid);

  const cells: SideCell[] = [];
  for (const stream of [false, true]) {
    for (let r = 0; r < rounds; r++) {
      // Alternate the order each round, so a drift in machine load hits both sides alike.
      const order = r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
      for (const which of order) {
        const pid = targets[which].pid ?? 0;
        const measuring = message(loadgen, (m) =>
          (m as { type?: string }).type === 'measuring' ? true : undefined,
        );
        const running = runJob(which, stream, durationMs, 1000);
        await measuring;
        const cpu0 = cpuSeconds(pid);
        const main0 = cpuSeconds(pid, true);
        const res = await running;
        const perRequest = (s: number) => (s * 1e6) / Math.max(1, res.completed);
        cells.push({
          cpuUsPerRequest: perRequest(cpuSeconds(pid) - cpu0),
          mainCpuUsPerRequest: perRequest(cpuSeconds(pid, true) - main0),
          mode: stream ? 'stream' : 'plain',
          side: which,
          round: r,
          rps: res.rps,
          errors: res.errors,
          p50Ms: res.latency.p50,
        });
        process.stderr.write(
          `  ${stream ? 'stream' : 'plain'} ${which} round ${r}: ${res.rps.toFixed(0)} req/s, ${res.errors} errors\n`,
        );
      }
    }
  }
  targets.on.send({ type: 'stats' });
  const onStats = await message(targets.on, (m) =>
    (m as { type?: string }).type === 'stats' ? (m as { stats: unknown }).stats : undefined,
  );

  const best = (mode: string, v: string) =>
    Math.max(...cells.filter((c) => c.mode === mode && c.side === v).map((c) => c.rps));
  const least = (mode: string, v: string, of: 'cpuUsPerRequest' | 'mainCpuUsPerRequest') =>
    Math.min(...cells.filter((c) => c.mode === mode && c.side === v).map((c) => c[of]));
  const summary = ['plain', 'stream'].map((mode) => {
    const ratio = best(mode, 'on') / best(mode, 'off');
    // Capacity if the event loop were the bottleneck: the inverse of main-thread CPU per request.
    const mainCpuCapacityRatio =
      least(mode, 'off', 'mainCpuUsPerRequest') / least(mode, 'on', 'mainCpuUsPerRequest');
    return {
      mode,
      offRps: best(mode, 'off'),
      onRps: best(mode, 'on'),
      ratio,
      offCpuUsPerRequest: least(mode, 'off', 'cpuUsPerRequest'),
      onCpuUsPerRequest: least(mode, 'on', 'cpuUsPerRequest'),
      cpuCapacityRatio: least(mode, 'off', 'cpuUsPerRequest') / least(mode, 'on', 'cpuUsPerRequest'),
      offMainCpuUsPerRequest: least(mode, 'off', 'mainCpuUsPerRequest'),
      onMainCpuUsPerRequest: least(mode, 'on', 'mainCpuUsPerRequest'),
      mainCpuCapacityRatio,
      target: '>= 0.90',
      pass: ratio >= 0.9 && mainCpuCapacityRatio >= 0.9,
    };
  });
  for (const c of [loadgen, targets.on, targets.off, upstream]) c.disconnect();
  setTimeout(() => {
    for (const c of [loadgen, targets.on, targets.off, upstream]) if (c.exitCode === null) c.kill('SIGKILL');
  }, 3000).unref();
  return { cells, summary, onStats };
}

/** A numeric `--name value` argument, or the default. */
export function numberArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

export interface BenchGatewayOptions {
  /** Register the `get_forecast` tool contract for the bench tenant (policy `coerce`). */
  contracts: boolean;
  /** The telemetry store; `db` is the gateway's own SQLite database, stored at `path`. */
  telemetry: (db: SqliteDatabase, path: string) => TelemetryEventStore;
  /** What the child answers to a `stats` message (after the gateway settled). */
  stats: (gateway: Gateway) => unknown;
  /** Closed after the gateway, before the database. */
  close?: () => Promise<void>;
}

/**
 * The gateway under test, as a child process: the embedded mode (SQLite file registry, memory
 * pins written behind, the given telemetry) with one tenant on one stable version of channel
 * `bench` served by the simulator at UPSTREAM_URL. Reports `{url, key}` to the parent.
 */
export async function serveBenchGateway(o: BenchGatewayOptions): Promise<void> {
  const upstream = process.env.UPSTREAM_URL ?? 'http://127.0.0.1:9000';
  const dir = mkdtempSync(join(tmpdir(), 'sy-bench-'));
  const clock = systemClock;
  const logger = pino({ level: 'warn' });
  const dbPath = join(dir, 'switchyard.db');
  const db = new SqliteDatabase(dbPath);
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
  if (o.contracts) {
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
    telemetry: o.telemetry(db, dbPath),
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
    if (m.type !== 'stats') return;
    void gateway.settle().then(() => process.send?.({ type: 'stats', stats: o.stats(gateway) }));
  });
  process.on('disconnect', () => {
    void (async () => {
      const closing = http.close();
      http.server.closeAllConnections();
      await closing;
      await gateway.close();
      await o.close?.();
      await pins.close();
      await snapshots.stop();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    })();
  });
}
