/**
 * Cost of tool-call validation per call on every BFCL v4 schema of three categories, for the
 * clean answers and for each drift the simulator plays, against baselines measured in the same
 * run: a bare JSON.parse of the arguments (what any gateway that looks at tool calls pays) and
 * ajv's validate alone on pre-parsed arguments (the floor of schema checking).
 *
 *   npx tsx bench/contracts-validation-bench.ts [--rounds N] [--reps N]
 *
 * Each call is timed as the mean of `reps` back-to-back runs (hrtime's resolution and overhead
 * are too coarse for one sub-microsecond run), once per round. A call's cost is the median of
 * its rounds; the table gives the median and p99 of those costs across calls (the spread over
 * schemas and drifts), and `raw p99` over every single sample, which also catches GC pauses
 * and, on a loaded machine, preemption. Operations are interleaved per call, so load drifts
 * affect baselines and subjects alike.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import { coerceArguments } from '../src/contracts/coercion.js';
import { compiledContract } from '../src/contracts/compiled-contracts.js';
import { compileSchema } from '../src/contracts/schema-compiler.js';
import { toSelfCorrectionError } from '../src/contracts/self-correction.js';
import {
  BFCL_DRIFTS,
  BFCL_KNOWN_INVALID,
  type BfclContractCase,
  bfclCleanCall,
  loadBfclContractCases,
} from '../src/contracts/test-support/contract-fixtures.js';
import {
  findToolContract,
  type ToolCallInput,
  validateToolCall,
} from '../src/contracts/tool-call-validator.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const ROUNDS = arg('rounds', 7);
const REPS = arg('reps', 40);

interface Sample {
  caseId: string;
  drift: string;
  c: BfclContractCase;
  call: ToolCallInput;
}

type Op = (s: Sample) => unknown;

let sink: unknown;

function timeOp(op: Op, s: Sample): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < REPS; i++) sink = op(s);
  return Number(process.hrtime.bigint() - start) / REPS / 1000;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

interface Stat {
  calls: number;
  /** Median and p99 over calls of each call's median cost. */
  medianUs: number;
  p99Us: number;
  /** p99 over every sample (every call, every round). */
  rawP99Us: number;
}

function stat(perCall: number[], raw: number[]): Stat {
  const sorted = [...perCall].sort((a, b) => a - b);
  const rawSorted = [...raw].sort((a, b) => a - b);
  return {
    calls: sorted.length,
    medianUs: quantile(sorted, 0.5),
    p99Us: quantile(sorted, 0.99),
    rawP99Us: quantile(rawSorted, 0.99),
  };
}

const parseText = (s: Sample) =>
  s.call.argumentsText === undefined ? s.call.input : safeParse(s.call.argumentsText);

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function main() {
  const cases = (await loadBfclContractCases()).filter((c) => !BFCL_KNOWN_INVALID.has(c.bfclCase.id));
  const samples: Sample[] = [];
  for (const c of cases) {
    samples.push({ caseId: c.bfclCase.id, drift: 'none', c, call: bfclCleanCall(c) });
    for (const [drift, make] of Object.entries(BFCL_DRIFTS)) {
      const v = make(c);
      if (v) samples.push({ caseId: c.bfclCase.id, drift, c, call: v.call });
    }
  }

  // Pre-parsed arguments and validators, so the ajv baseline measures validate() alone.
  const parsed = new Map<Sample, unknown>(samples.map((s) => [s, parseText(s)]));
  const validators = new Map(
    samples.map((s) => {
      const tool = findToolContract(s.c.contracts, s.c.golden.toolName);
      if (!tool) throw new Error(`${s.caseId}: no contract`);
      return [s, tool] as const;
    }),
  );
  const contractOf = (s: Sample) => s.c.contracts.get(s.c.golden.toolName);

  const ops: Record<string, Op> = {
    'baseline: JSON.parse': (s) => parseText(s),
    'baseline: ajv validate (pre-parsed)': (s) => validators.get(s)?.validate(parsed.get(s)),
    validateToolCall: (s) => validateToolCall(s.c.contracts, s.call),
    'validate + self-correction error': (s) => {
      const out = validateToolCall(s.c.contracts, s.call);
      return out.valid ? out : toSelfCorrectionError(out);
    },
    'validate + coercion attempt': (s) => {
      const out = validateToolCall(s.c.contracts, s.call);
      if (out.valid || out.kind !== 'schema_violation') return out;
      const tool = validators.get(s);
      return tool ? coerceArguments(tool.schema, out.arguments, tool.validate) : out;
    },
    'cache: compiledContract (id+version)': (s) => {
      const c = contractOf(s);
      return c ? compiledContract(c) : undefined;
    },
    'cache: compileSchema (sha256 of schema)': (s) => compileSchema(validators.get(s)?.schema, '/s'),
  };

  // Warm-up: compile everything and let the JIT settle.
  for (let i = 0; i < 3; i++) for (const s of samples) for (const op of Object.values(ops)) op(s);

  /** op -> per-sample list of round timings (µs). */
  const timings = new Map<string, number[][]>();
  for (const name of Object.keys(ops))
    timings.set(
      name,
      samples.map(() => []),
    );
  const started = Date.now();
  for (let round = 0; round < ROUNDS; round++) {
    samples.forEach((s, i) => {
      for (const [name, op] of Object.entries(ops)) timings.get(name)?.[i]?.push(timeOp(op, s));
    });
  }
  const elapsedS = (Date.now() - started) / 1000;
  void sink;

  const median = (xs: readonly number[]) =>
    quantile(
      [...xs].sort((a, b) => a - b),
      0.5,
    );
  const summary: Record<string, { valid: Stat; drifted: Stat; byDrift: Record<string, Stat> }> = {};
  for (const [name, perSample] of timings) {
    const pick = (keep: (s: Sample) => boolean) => {
      const idx = samples.map((s, i) => (keep(s) ? i : -1)).filter((i) => i >= 0);
      return stat(
        idx.map((i) => median(perSample[i] ?? [])),
        idx.flatMap((i) => perSample[i] ?? []),
      );
    };
    const byDrift: Record<string, Stat> = {};
    for (const d of new Set(samples.map((s) => s.drift))) byDrift[d] = pick((s) => s.drift === d);
    summary[name] = {
      valid: pick((s) => s.drift === 'none'),
      drifted: pick((s) => s.drift !== 'none'),
      byDrift,
    };
  }
  const parseBase = summary['baseline: JSON.parse'];
  const ajvBase = summary['baseline: ajv validate (pre-parsed)'];
  const ratio = (a: number, b: number | undefined) => (b && b > 0 ? a / b : Number.NaN);

  const table = new Table({
    head: ['operation', 'set', 'median µs', 'p99 µs', 'raw p99 µs', '× JSON.parse', '× ajv alone'],
    style: { head: [], border: [] },
  });
  for (const [name, s] of Object.entries(summary)) {
    for (const set of ['valid', 'drifted'] as const) {
      const st = s[set];
      table.push([
        name,
        set,
        st.medianUs.toFixed(2),
        st.p99Us.toFixed(2),
        st.rawP99Us.toFixed(2),
        ratio(st.medianUs, parseBase?.[set].medianUs).toFixed(1),
        ratio(st.medianUs, ajvBase?.[set].medianUs).toFixed(1),
      ]);
    }
  }
  const perDrift = new Table({
    head: ['drift', 'calls', 'validateToolCall median µs', 'p99 µs', '+ coercion median µs'],
    style: { head: [], border: [] },
  });
  const v = summary.validateToolCall;
  const vc = summary['validate + coercion attempt'];
  for (const [d, st] of Object.entries(v?.byDrift ?? {})) {
    perDrift.push([
      d,
      st.calls,
      st.medianUs.toFixed(2),
      st.p99Us.toFixed(2),
      (vc?.byDrift[d]?.medianUs ?? Number.NaN).toFixed(2),
    ]);
  }

  const env = {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    loadavg1m: loadavg()[0],
    rounds: ROUNDS,
    repsPerSample: REPS,
    elapsedS,
  };
  console.log(
    `BFCL cases: ${cases.length}, calls: ${samples.length} (${samples.filter((s) => s.drift === 'none').length} valid, ${samples.filter((s) => s.drift !== 'none').length} drifted), ${ROUNDS} rounds x ${REPS} reps, ${elapsedS.toFixed(1)} s, load ${env.loadavg1m?.toFixed(2)} on ${env.cpus} CPUs`,
  );
  console.log(table.toString());
  console.log(perDrift.toString());

  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'contracts-validation.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(
    out,
    `${JSON.stringify(
      {
        benchmark: 'contracts-validation',
        at: new Date().toISOString(),
        env,
        calls: {
          valid: samples.filter((s) => s.drift === 'none').length,
          drifted: samples.filter((s) => s.drift !== 'none').length,
        },
        ratios: {
          validateVsParse: {
            valid: ratio(v?.valid.medianUs ?? Number.NaN, parseBase?.valid.medianUs),
            drifted: ratio(v?.drifted.medianUs ?? Number.NaN, parseBase?.drifted.medianUs),
          },
          validateVsAjv: {
            valid: ratio(v?.valid.medianUs ?? Number.NaN, ajvBase?.valid.medianUs),
            drifted: ratio(v?.drifted.medianUs ?? Number.NaN, ajvBase?.drifted.medianUs),
          },
        },
        results: summary,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`written ${out}`);
}

await main();
