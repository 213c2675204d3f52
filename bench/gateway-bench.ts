/**
 * Gateway benchmark: the provider simulator directly (latency 0), a minimal pass-through proxy
 * (the floor) and the Switchyard gateway (auth, routing, stickiness, telemetry on), each proxy
 * in its own process pinned to core 1, load and simulator on core 0. Targets alternate within
 * every scenario (fixed 500 and 2000 req/s, then saturation; plain and streaming).
 *
 *   npx tsx bench/gateway-bench.ts [--duration-ms 2500] [--warmup-ms 1000] [--concurrency 64]
 *     [--foreign-limit 0.1] [--attempts 3] [--retry-budget-s 150]
 *
 * The machine may be shared: each cell records how much CPU other processes used meanwhile
 * (foreign%), and a disturbed cell is measured again (within a time budget), keeping the
 * least disturbed attempt.
 *
 * Prints a table and writes bench/results/gateway.json.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadJob, LoadResult } from './gateway-loadgen.js';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const DURATION_MS = arg('duration-ms', 2500);
const WARMUP_MS = arg('warmup-ms', 1000);
const CONCURRENCY = arg('concurrency', 64);
const SESSIONS = 1000;
const LOAD_CORE = '0';
const PROXY_CORE = '1';
const CLK_TCK = 100;
/** A cell measured while other processes used more than this share of the machine is retried. */
const FOREIGN_LIMIT = arg('foreign-limit', 0.1);
const MAX_ATTEMPTS = arg('attempts', 3);
/** Retries stop once the run has taken this long, so one run stays near three minutes. */
const RETRY_BUDGET_S = arg('retry-budget-s', 150);

type Load = 500 | 2000 | 'saturation';
type Mode = 'plain' | 'stream';
type TargetName = 'direct' | 'minimal' | 'gateway';

interface Target {
  name: TargetName;
  origin: string;
  model: string;
  /** The process whose CPU is charged to this target. */
  pid: number;
  key: string;
}

interface Cell {
  mode: Mode;
  load: Load;
  target: TargetName;
  result: LoadResult;
  /** CPU time of the target's process per completed request, microseconds. */
  cpuUsPerRequest: number;
  /** Share of one core the target's process used while measured. */
  cpuUtilization: number;
  /** Share of the machine's CPU used by processes outside the benchmark (other work, VM steal). */
  foreignCpu: number;
}

function start(file: string, core: string, env: Record<string, string> = {}): ChildProcess {
  const child = fork(join(here, file), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  // -a: every thread of the process (V8's and libuv's too), not only the main one.
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

/** utime + stime of a process, in seconds (includes all its threads). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** CPU seconds the whole machine spent busy (all cores; steal counted as busy: it is not ours). */
function machineCpu(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / CLK_TCK;
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

function bodies(model: string, stream: boolean): string[] {
  return Array.from({ length: SESSIONS }, (_, i) =>
    JSON.stringify({
      model,
      stream,
      messages: [
        {
          role: 'system',
          content: 'You are the support agent of an online shop. Answer briefly and politely.',
        },
        {
          role: 'user',
          content: `Ticket ${i}: the customer cannot log in after resetting the password. What now?`,
        },
      ],
    }),
  );
}

/** Waits (up to `limitMs`) for the machine to be quiet: nothing else using more than `share` of it. */
async function quiet(share: number, limitMs: number): Promise<number> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const before = machineCpu();
    await new Promise((r) => setTimeout(r, 1000));
    const busy = (machineCpu() - before) / cpus().length;
    if (busy <= share || Date.now() > deadline) return busy;
  }
}

async function main(): Promise<void> {
  if (cpus().length < 2) throw new Error('the benchmark needs two cores (load on core 0, proxies on core 1)');
  const busyAtStart = await quiet(FOREIGN_LIMIT, 60_000);
  process.stderr.write(`machine busy before start: ${(busyAtStart * 100).toFixed(0)}%\n`);
  const upstream = start('gateway-bench-upstream.ts', LOAD_CORE);
  const { url: simUrl } = await message(upstream, (m) => m as { url: string });
  const minimal = start('minimal-proxy.ts', PROXY_CORE, { UPSTREAM_URL: simUrl });
  const gateway = start('gateway-bench-target.ts', PROXY_CORE, { UPSTREAM_URL: simUrl });
  const loadgen = start('gateway-loadgen.ts', LOAD_CORE);
  const [{ url: minimalUrl }, gw] = await Promise.all([
    message(minimal, (m) => m as { url: string }),
    message(gateway, (m) => ((m as { key?: string }).key ? (m as { url: string; key: string }) : undefined)),
  ]);
  const targets: Target[] = [
    { name: 'direct', origin: simUrl, model: 'sim-bench', pid: upstream.pid ?? 0, key: 'none' },
    { name: 'minimal', origin: minimalUrl, model: 'sim-bench', pid: minimal.pid ?? 0, key: 'none' },
    { name: 'gateway', origin: gw.url, model: 'bench', pid: gateway.pid ?? 0, key: gw.key },
  ];

  const jobFor = (target: Target, mode: Mode, load: Load, durationMs: number, warmupMs: number): LoadJob => ({
    origin: target.origin,
    path: '/v1/chat/completions',
    bodies: bodies(target.model, mode === 'stream'),
    headers: Array.from({ length: SESSIONS }, (_, i) => ({
      'content-type': 'application/json',
      authorization: `Bearer ${target.key}`,
      'x-session-id': `session-${i}`,
    })),
    stream: mode === 'stream',
    ...(load === 'saturation' ? {} : { rate: load }),
    concurrency: CONCURRENCY,
    warmupMs,
    durationMs,
  });
  const runJob = (job: LoadJob) => {
    const done = message(loadgen, (m) =>
      (m as { type?: string }).type === 'result' ? (m as { result: LoadResult }).result : undefined,
    );
    loadgen.send(job);
    return done;
  };

  const t0 = Date.now();
  // Every target's code paths get hot (JIT-compiled) before anything is measured, so the first
  // scenario is not charged for compilation.
  for (const target of targets) {
    for (const mode of ['plain', 'stream'] as const)
      await runJob(jobFor(target, mode, 'saturation', 1500, 0));
  }
  const children = [upstream, minimal, gateway, loadgen];
  const measure = async (target: Target, mode: Mode, load: Load): Promise<Cell> => {
    const measuring = message(loadgen, (m) =>
      (m as { type?: string }).type === 'measuring' ? true : undefined,
    );
    const done = runJob(jobFor(target, mode, load, DURATION_MS, WARMUP_MS));
    await measuring;
    const cpuStart = cpuSeconds(target.pid);
    const oursStart = children.reduce((sum, c) => sum + cpuSeconds(c.pid ?? 0), 0);
    const machineStart = machineCpu();
    const wallStart = process.hrtime.bigint();
    const result = await done;
    const wall = Number(process.hrtime.bigint() - wallStart) / 1e9;
    const cpu = cpuSeconds(target.pid) - cpuStart;
    const ours = children.reduce((sum, c) => sum + cpuSeconds(c.pid ?? 0), 0) - oursStart;
    const machine = machineCpu() - machineStart;
    return {
      mode,
      load,
      target: target.name,
      result,
      cpuUsPerRequest: (cpu * 1e6) / Math.max(1, result.completed),
      cpuUtilization: cpu / wall,
      foreignCpu: Math.max(0, (machine - ours) / (wall * cpus().length)),
    };
  };

  const cells: Cell[] = [];
  for (const mode of ['plain', 'stream'] as const) {
    for (const load of [500, 2000, 'saturation'] as const) {
      for (const target of targets) {
        // Other work on the machine distorts a cell: measure again (a few times at most) and keep
        // the attempt it disturbed least. What remains is reported per cell (foreign %).
        let best: Cell | undefined;
        for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
          const cell = await measure(target, mode, load);
          if (!best || cell.foreignCpu < best.foreignCpu) best = cell;
          if (cell.foreignCpu <= FOREIGN_LIMIT || (Date.now() - t0) / 1000 > RETRY_BUDGET_S) break;
        }
        const cell = best as Cell;
        cells.push(cell);
        process.stderr.write(
          `  ${mode} ${load} ${target.name}: ${cell.result.rps.toFixed(0)} req/s (foreign CPU ${(cell.foreignCpu * 100).toFixed(0)}%)\n`,
        );
      }
    }
  }
  const rss = Object.fromEntries(targets.map((t) => [t.name, peakRssMb(t.pid)]));
  const summary = summarize(cells);
  print(cells, rss, summary);
  const out = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      durationMs: DURATION_MS,
      foreignLimit: FOREIGN_LIMIT,
      warmupMs: WARMUP_MS,
      concurrency: CONCURRENCY,
      sessions: SESSIONS,
      wallSeconds: (Date.now() - t0) / 1000,
      layout: 'load generator and simulator on core 0; each proxy alone on core 1 (taskset -a)',
    },
    cells,
    peakRssMb: rss,
    summary,
  };
  writeFileSync(join(here, 'results', 'gateway.json'), `${JSON.stringify(out, null, 2)}\n`);
  for (const c of [loadgen, gateway, minimal, upstream]) c.disconnect();
  // Children close themselves on disconnect; one that does not within 3 s is killed.
  setTimeout(() => {
    for (const c of [loadgen, gateway, minimal, upstream]) if (c.exitCode === null) c.kill('SIGKILL');
  }, 3000).unref();
}

interface Summary {
  checks: Array<{ name: string; value: number; limit: string; pass: boolean }>;
  /** Cells measured while other processes used more than the foreign limit: read those with care. */
  disturbedCells: string[];
}

function find(cells: Cell[], mode: Mode, load: Load, target: TargetName): Cell {
  const c = cells.find((x) => x.mode === mode && x.load === load && x.target === target);
  if (!c) throw new Error(`missing cell ${mode} ${load} ${target}`);
  return c;
}

function summarize(cells: Cell[]): Summary {
  const checks: Summary['checks'] = [];
  for (const mode of ['plain', 'stream'] as const) {
    const gw = find(cells, mode, 'saturation', 'gateway');
    const min = find(cells, mode, 'saturation', 'minimal');
    const ratio = gw.result.rps / min.result.rps;
    checks.push({
      name: `${mode}: saturation gateway/minimal`,
      value: ratio,
      limit: '>= 0.65',
      pass: ratio >= 0.65,
    });
    // Capacity if the proxy alone were the bottleneck: one core divided by CPU per request.
    const cpuRatio = min.cpuUsPerRequest / gw.cpuUsPerRequest;
    checks.push({
      name: `${mode}: CPU capacity gateway/minimal`,
      value: cpuRatio,
      limit: '(info)',
      pass: true,
    });
    for (const load of [500, 2000] as const) {
      const g = find(cells, mode, load, 'gateway').result;
      const m = find(cells, mode, load, 'minimal').result;
      const dp50 = g.latency.p50 - m.latency.p50;
      checks.push({
        name: `${mode} ${load}/s: added p50 over floor (ms)`,
        value: dp50,
        limit: '<= 0.3',
        pass: dp50 <= 0.3,
      });
      const dttfb = g.ttfb.p50 - m.ttfb.p50;
      checks.push({
        name: `${mode} ${load}/s: added TTFB p50 over floor (ms)`,
        value: dttfb,
        limit: '<= 0.5',
        pass: dttfb <= 0.5,
      });
    }
    const errs = find(cells, mode, 2000, 'gateway').result.errors;
    checks.push({ name: `${mode} 2000/s: gateway errors`, value: errs, limit: '== 0', pass: errs === 0 });
  }
  const disturbedCells = cells
    .filter((c) => c.foreignCpu > FOREIGN_LIMIT)
    .map((c) => `${c.mode} ${c.load} ${c.target} (${(c.foreignCpu * 100).toFixed(0)}%)`);
  return { checks, disturbedCells };
}

const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '-');

function print(cells: Cell[], rss: Record<string, number>, summary: Summary): void {
  const head = [
    'mode',
    'load',
    'target',
    'req/s',
    'p50',
    'p99',
    '+p50',
    '+p99',
    'ttfb50',
    '+ttfb50',
    'cpu µs/req',
    'cpu%',
    'foreign%',
    'errors',
  ];
  const rows: string[][] = [];
  for (const c of cells) {
    const direct = find(cells, c.mode, c.load, 'direct').result;
    const r = c.result;
    rows.push([
      c.mode,
      String(c.load),
      c.target,
      f(r.rps, 0),
      f(r.latency.p50),
      f(r.latency.p99),
      c.target === 'direct' ? '' : f(r.latency.p50 - direct.latency.p50),
      c.target === 'direct' ? '' : f(r.latency.p99 - direct.latency.p99),
      f(r.ttfb.p50),
      c.target === 'direct' ? '' : f(r.ttfb.p50 - direct.ttfb.p50),
      f(c.cpuUsPerRequest, 0),
      f(c.cpuUtilization * 100, 0),
      f(c.foreignCpu * 100, 0),
      String(r.errors),
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((v, i) => v.padStart(widths[i] ?? 0)).join('  ');
  console.log(
    `\nlatencies in ms; +x = added over direct; cpu = the target process (direct: the simulator)\n`,
  );
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  console.log(
    `\npeak RSS (MB): ${Object.entries(rss)
      .map(([k, v]) => `${k} ${f(v, 0)}`)
      .join(', ')}\n`,
  );
  for (const c of summary.checks)
    console.log(`${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${f(c.value, 3)} (${c.limit})`);
  if (summary.disturbedCells.length > 0) {
    console.log(`\nWARNING: other processes used the CPU during ${summary.disturbedCells.length} cells:`);
    console.log(`  ${summary.disturbedCells.join(', ')}`);
  }
}

await main();
