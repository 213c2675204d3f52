/**
 * BETS fleet run: T tenants with C cases each, run at once against the provider simulator
 * (50 ms per call) under one global provider limit (200 requests/s, enforced by BETS's token
 * bucket). Measures:
 *   - wall time of the fleet run, and the achieved request rate as a share of the limit
 *     (over the whole run, and over the steady part between the first and the last result);
 *   - CPU time per case outside the provider call: process CPU during the fleet run, less the
 *     CPU of the same number of bare provider calls (same bodies, same client, same simulator in
 *     this process, no BETS work), divided by the cases run.
 *
 * Run: npx tsx bench/bets-fleet-bench.ts [--tenants 100] [--cases 300] [--rps 200] [--latency 50]
 *      [--in-flight 64] [--paced-baseline 5000] [--out bench/results/bets-fleet.json]
 *
 * A second baseline paces bare calls at the same rate (a timer loop, no BETS code), because
 * waking up 200 times a second costs CPU an unpaced burst of calls does not; both figures are
 * reported.
 */
import { setMaxListeners } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BETS_MIGRATIONS } from '../src/bets/bets-migrations.js';
import { createBets } from '../src/bets/bets-module.js';
import type { CaseSpec } from '../src/bets/bets-types.js';
import { casesFromBfcl } from '../src/bets/import/bfcl-suite-import.js';
import { buildRequestBody } from '../src/bets/provider-codec.js';
import { HttpProviderClient } from '../src/providers/http-provider-client.js';
import { readBody } from '../src/providers/read-body.js';
import { InProcessChangeBus } from '../src/registry/change-bus.js';
import { RegistryService } from '../src/registry/registry-service.js';
import { SqlRegistryStore } from '../src/registry/sql-registry-store.js';
import type { ModelVersion } from '../src/registry/types.js';
import { systemClock } from '../src/shared/clock.js';
import { type KnownCase, knownCasesFromBfcl, startSimulator } from '../src/simulator/index.js';
import { migrate } from '../src/storage/migrations.js';
import { MIGRATIONS } from '../src/storage/schema.js';
import { SqliteDatabase } from '../src/storage/sqlite-database.js';

function arg(name: string, fallback: number | string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : String(fallback);
}
const TENANTS = Number(arg('tenants', 100));
const CASES = Number(arg('cases', 300));
const RPS = Number(arg('rps', 200));
const LATENCY = Number(arg('latency', 50));
const IN_FLIGHT = Number(arg('in-flight', 64));
const OUT = arg('out', 'bench/results/bets-fleet.json');
const PACED = Number(arg('paced-baseline', 5000));
const BFCL =
  process.env.SWITCHYARD_BFCL_DIR ?? fileURLToPath(new URL('../../shared/data/bfcl', import.meta.url));
const FILES = ['BFCL_v4_simple_python', 'BFCL_v4_multiple', 'BFCL_v4_live_simple'];
const ACTOR = { actor: 'bench' };

/** Every BFCL case that converts, with the simulator's known answers for all of them. */
async function loadCases(): Promise<{ cases: CaseSpec[]; known: KnownCase[] }> {
  const cases: CaseSpec[] = [];
  const known: KnownCase[] = [];
  for (const f of FILES) {
    const text = (s: string) => readFileSync(`${BFCL}/${f}${s}`, 'utf8');
    cases.push(...casesFromBfcl(text('.json'), text('.answers.json')).cases);
    known.push(...(await knownCasesFromBfcl(`${BFCL}/${f}.json`)));
  }
  return { cases, known };
}

async function bareCalls(
  client: HttpProviderClient,
  version: ModelVersion,
  bodies: string[],
  concurrency: number,
) {
  let next = 0;
  const signal = new AbortController().signal;
  setMaxListeners(0, signal);
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++] as string;
      const res = await client.send({ version, body, stream: false, signal });
      JSON.parse((await readBody(res.body, 8 * 1024 * 1024)).toString('utf8'));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Bare calls paced at `rps` with a plain timer loop (no token bucket): the same event-loop
 * wake-up pattern as a rate-limited run, so its CPU per call includes the cost of pacing itself.
 */
async function pacedCalls(client: HttpProviderClient, version: ModelVersion, bodies: string[], rps: number) {
  const signal = new AbortController().signal;
  setMaxListeners(0, signal);
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(bodies.length, Math.floor(((performance.now() - started) / 1000) * rps) + 1);
      for (; sent < due; sent++) {
        const body = bodies[sent] as string;
        const p: Promise<void> = client
          .send({ version, body, stream: false, signal })
          .then(async (res) => {
            JSON.parse((await readBody(res.body, 8 * 1024 * 1024)).toString('utf8'));
          })
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      if (sent < bodies.length) setTimeout(tick, 1000 / rps);
      else resolve();
    };
    tick();
  });
  await Promise.all(inFlight);
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'bets-bench-'));
  const { cases: pool, known } = await loadCases();
  if (pool.length < CASES)
    throw new Error(`only ${pool.length} BFCL cases convert; ask for at most that many`);
  const profile = { latency: { firstToken: { p50Ms: LATENCY }, total: { p50Ms: LATENCY } } };
  const sim = await startSimulator({
    seed: 3,
    models: { 'sim-stable': profile, 'sim-candidate': profile },
    knownCases: known,
  });
  const db = new SqliteDatabase(join(dir, 'bench.db'));
  await migrate(db, [...MIGRATIONS, ...BETS_MIGRATIONS]);
  const store = new SqlRegistryStore(db);
  const registry = new RegistryService(store, new InProcessChangeBus(), systemClock);
  await registry.seedDefaultGroups(ACTOR);
  const endpoint = `${sim.url}/v1`;
  const base = {
    channel: 'gpt-x',
    providerKind: 'openai-compatible' as const,
    endpoint,
    credentialsRef: 'none',
  };
  await registry.createModel(ACTOR, {
    ...base,
    id: 'gpt-x-01',
    upstreamModel: 'sim-stable',
    lifecycle: 'active',
  });
  const candidate = await registry.createModel(ACTOR, {
    ...base,
    id: 'gpt-x-03',
    upstreamModel: 'sim-candidate',
  });

  const providers = new HttpProviderClient({
    connectTimeoutMs: 2_000,
    headersTimeoutMs: 30_000,
    bodyTimeoutMs: 30_000,
    maxConnectionsPerOrigin: IN_FLIGHT,
    keepAliveTimeoutMs: 60_000,
  });
  const origin = new URL(endpoint).origin;
  let firstResult = 0;
  let lastResult = 0;
  let results = 0;
  const bets = createBets({
    db,
    registry: store,
    providers,
    clock: systemClock,
    rateLimits: { byOrigin: { [origin]: { requestsPerSecond: RPS } } },
    maxInFlight: IN_FLIGHT,
    onResult: () => {
      const now = performance.now();
      if (results++ === 0) firstResult = now;
      lastResult = now;
    },
  });

  process.stderr.write(`setting up ${TENANTS} tenants x ${CASES} cases (of ${pool.length} BFCL cases)...\n`);
  const tenantCases: CaseSpec[][] = [];
  for (let t = 0; t < TENANTS; t++) {
    const id = `tenant-${String(t).padStart(3, '0')}`;
    await registry.createTenant(ACTOR, { id, name: id, rolloutGroup: 'standard' });
    await registry.bindChannel(ACTOR, id, {
      channel: 'gpt-x',
      stableVersionId: 'gpt-x-01',
      candidateVersionId: 'gpt-x-03',
      upgradeId: 'bench',
    });
    // Each tenant its own slice of the pool, so tenants do not all ask the same questions.
    const start = (t * 37) % pool.length;
    const mine = Array.from({ length: CASES }, (_, i) => pool[(start + i) % pool.length] as CaseSpec);
    tenantCases.push(mine);
    await bets.suites.importCases(
      id,
      'main',
      {
        candidates: mine.map((spec) => ({ spec, source: 'bfcl' })),
        create: { workflow: 'main', channel: 'gpt-x' },
        note: 'bench',
      },
      undefined,
      'bench',
    );
  }

  // Warm-up of both paths (JIT, pooled connections), then the baseline of bare provider calls.
  const warm = tenantCases[0]?.slice(0, 200).map((c) => buildRequestBody(candidate, c.input, 1024)) ?? [];
  await bareCalls(providers, candidate, warm, IN_FLIGHT);
  const calls = TENANTS * CASES;
  const bodies = tenantCases.flatMap((list) => list.map((c) => buildRequestBody(candidate, c.input, 1024)));
  process.stderr.write(`baseline: ${calls} bare provider calls...\n`);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await bareCalls(providers, candidate, bodies, IN_FLIGHT);
  const baselineCpuMs = cpuMs(process.cpuUsage(cpu0));
  const baselineWallMs = performance.now() - t0;

  const pacedBodies = bodies.slice(0, Math.min(PACED, bodies.length));
  process.stderr.write(`paced baseline: ${pacedBodies.length} bare calls at ${RPS}/s...\n`);
  const cpuP = process.cpuUsage();
  await pacedCalls(providers, candidate, pacedBodies, RPS);
  const pacedCpuPerCallMs = cpuMs(process.cpuUsage(cpuP)) / Math.max(1, pacedBodies.length);

  process.stderr.write(`fleet run: ${calls} cases at ${RPS} requests/s...\n`);
  const before = sim.stats().requests;
  const cpu1 = process.cpuUsage();
  const t1 = performance.now();
  const started = await bets.fleet.start(
    { channel: 'gpt-x', upgradeId: 'bench', options: { concurrency: 8 } },
    'bench',
  );
  const verdicts: string[] = [];
  let firstVerdictMs = 0;
  for await (const v of started.verdicts) {
    if (verdicts.length === 0) firstVerdictMs = performance.now() - t1;
    verdicts.push(v.outcome);
  }
  await started.done;
  const fleetWallMs = performance.now() - t1;
  const fleetCpuMs = cpuMs(process.cpuUsage(cpu1));
  const requests = sim.stats().requests - before;

  const steadyRate = results > 1 ? ((results - 1) / (lastResult - firstResult)) * 1000 : 0;
  const overallRate = (requests / fleetWallMs) * 1000;
  // The baseline made `calls` calls; the fleet made `requests` (baseline re-runs of failing
  // cases included): scale the baseline to the same number of calls before subtracting.
  const bareCpuForFleet = baselineCpuMs * (requests / calls);
  const report = {
    tenants: TENANTS,
    casesPerTenant: CASES,
    cases: calls,
    providerLimitRps: RPS,
    providerLatencyMs: LATENCY,
    maxInFlight: IN_FLIGHT,
    fleet: {
      wallSeconds: +(fleetWallMs / 1000).toFixed(2),
      providerRequests: requests,
      achievedRps: +overallRate.toFixed(1),
      shareOfLimit: +(overallRate / RPS).toFixed(3),
      steadyRps: +steadyRate.toFixed(1),
      steadyShareOfLimit: +(steadyRate / RPS).toFixed(3),
      firstVerdictSeconds: +(firstVerdictMs / 1000).toFixed(2),
      verdicts: Object.fromEntries(
        [...new Set(verdicts)].map((o) => [o, verdicts.filter((x) => x === o).length]),
      ),
      cpuMs: Math.round(fleetCpuMs),
    },
    baseline: {
      bareCalls: calls,
      wallSeconds: +(baselineWallMs / 1000).toFixed(2),
      cpuMs: Math.round(baselineCpuMs),
    },
    pacedBaseline: { bareCalls: pacedBodies.length, cpuMsPerCall: +pacedCpuPerCallMs.toFixed(3) },
    /** The brief's measure: fleet CPU less the same number of bare (unpaced) calls, per case. */
    cpuPerCaseOutsideProviderMs: +((fleetCpuMs - bareCpuForFleet) / calls).toFixed(3),
    /** The same against bare calls paced at the provider limit (pacing's own cost excluded). */
    cpuPerCaseVsPacedBaselineMs: +((fleetCpuMs - pacedCpuPerCallMs * requests) / calls).toFixed(3),
    node: process.version,
    at: new Date().toISOString(),
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(OUT, `${JSON.stringify(report, null, 2)}\n`);
  await bets.close();
  await providers.close();
  await sim.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}

await main();
