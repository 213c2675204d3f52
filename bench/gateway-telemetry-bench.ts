import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateConfig } from '../src/config/load-config.js';
import { systemClock } from '../src/shared/clock.js';
import { createObservability } from '../src/telemetry/export/observability.js';
import { ObservedTelemetryStore } from '../src/telemetry/observed-store.js';
import { RetryingTelemetryEventStore } from '../src/telemetry/retrying-event-store.js';
import { RollupAggregator } from '../src/telemetry/rollups/rollup-aggregator.js';
import { SqlRollupStore } from '../src/telemetry/rollups/sql-rollup-store.js';
import { SqliteWorkerTelemetryStore } from '../src/telemetry/sqlite-worker-telemetry-store.js';
import { compareOnOff, numberArg, serveBenchGateway } from './on-off-saturation.js';

const here = dirname(fileURLToPath(import.meta.url));
const arg = numberArg;

// ---- the gateway under test (child process) ------------------------------------------------

async function target(telemetryOn: boolean): Promise<void> {
  let stored = 0;
  let rollups: RollupAggregator | null = null;
  let writer: SqliteWorkerTelemetryStore | null = null;
  await serveBenchGateway({
    contracts: true,
    telemetry: (db, path) => {
      if (!telemetryOn) return { append: async () => {} };
      // As `switchyard serve` wires it on an SQLite file: events written from a worker thread.
      const sql = new SqliteWorkerTelemetryStore(path);
      writer = sql;
      // As compose wires it: the writer under the retrying store, under the observers.
      const observed = new ObservedTelemetryStore(
        new RetryingTelemetryEventStore({
          append: async (batch) => {
            await sql.append(batch);
            stored += batch.length;
          },
        }),
      );
      rollups = new RollupAggregator(new SqlRollupStore(db), systemClock);
      observed.add(rollups);
      for (const o of createObservability(validateConfig({}).observability).observers) observed.add(o);
      return observed;
    },
    stats: (gateway) => ({ sink: gateway.stats().telemetry, stored, rollups: rollups?.stats() ?? null }),
    close: async () => {
      await rollups?.close();
      await writer?.close();
    },
  });
}

// ---- saturation, telemetry on vs off -----------------------------------------------------

async function main(): Promise<void> {
  if (cpus().length < 2) throw new Error('the benchmark needs two cores');
  const durationMs = arg('duration-ms', 3000);
  const rounds = arg('rounds', 2);
  const t0 = Date.now();
  const { cells, summary, onStats } = await compareOnOff('gateway-telemetry-bench.ts', durationMs, rounds);
  const out = {
    benchmark: 'gateway-telemetry',
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
    saturation: { cells, summary, telemetryOnCounters: onStats },
  };
  writeFileSync(join(here, 'results', 'gateway-telemetry.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\ntelemetry of the 'on' gateway after the run: ${JSON.stringify(onStats)}`);
  for (const s of summary) {
    console.log(
      `${s.pass ? 'PASS' : 'FAIL'}  ${s.mode}: telemetry on ${s.onRps.toFixed(0)} req/s vs off ${s.offRps.toFixed(0)} = ${(s.ratio * 100).toFixed(1)}%; main-thread CPU/req ${s.onMainCpuUsPerRequest.toFixed(0)} vs ${s.offMainCpuUsPerRequest.toFixed(0)} µs = ${(s.mainCpuCapacityRatio * 100).toFixed(1)}% capacity; all threads ${s.onCpuUsPerRequest.toFixed(0)} vs ${s.offCpuUsPerRequest.toFixed(0)} µs = ${(s.cpuCapacityRatio * 100).toFixed(1)}% (${s.target})`,
    );
  }
}

const which = process.argv[process.argv.indexOf('--target') + 1];
if (process.argv.includes('--target')) await target(which === 'on');
else await main();
