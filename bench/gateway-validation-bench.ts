import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clearCompiledContracts } from '../src/contracts/compiled-contracts.js';
import { loadBfclContractCases } from '../src/contracts/test-support/contract-fixtures.js';
import { checkToolCalls } from '../src/gateway/validation/response-check.js';
import { SqlTelemetryEventStore } from '../src/telemetry/sql-telemetry-store.js';
import { compareOnOff, numberArg, serveBenchGateway } from './on-off-saturation.js';

const here = dirname(fileURLToPath(import.meta.url));
const arg = numberArg;

// ---- the gateway under test (child process) ------------------------------------------------

async function target(validation: boolean): Promise<void> {
  await serveBenchGateway({
    contracts: validation,
    telemetry: (db) => new SqlTelemetryEventStore(db),
    stats: (gateway) => gateway.stats().validation,
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
      `${s.pass ? 'PASS' : 'FAIL'}  ${s.mode}: validation on ${s.onRps.toFixed(0)} req/s vs off ${s.offRps.toFixed(0)} = ${(s.ratio * 100).toFixed(1)}%; main-thread CPU/req ${s.onMainCpuUsPerRequest.toFixed(0)} vs ${s.offMainCpuUsPerRequest.toFixed(0)} µs = ${(s.mainCpuCapacityRatio * 100).toFixed(1)}% capacity; all threads ${s.onCpuUsPerRequest.toFixed(0)} vs ${s.offCpuUsPerRequest.toFixed(0)} µs = ${(s.cpuCapacityRatio * 100).toFixed(1)}% (${s.target})`,
    );
  }
}

const which = process.argv[process.argv.indexOf('--target') + 1];
if (process.argv.includes('--target')) await target(which === 'on');
else await main();
