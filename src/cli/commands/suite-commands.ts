import { readFileSync, writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import {
  exitCodeForStatus,
  formatApiError,
  type GlobalOptions,
  resolveToken,
  resolveUrl,
  seg,
} from '../admin-client.js';
import { adminCommand, connect, emit, parseInteger } from '../command-kit.js';
import { CliError, EXIT } from '../exit-codes.js';
import { readDocument } from '../input-files.js';
import { note, out, printRecord, printTable, shortTime } from '../output.js';

/**
 * `switchyard suites ...`: BETS suites of a tenant (list, show, import, export), runs of a suite
 * against a candidate with a progress bar, and run reports (JSON, Markdown, JUnit XML for CI).
 * A thin client of the admin API like the other commands.
 */

interface SuiteView {
  id: string;
  workflow: string;
  channel: string;
  name: string;
  version: number;
  caseCount: number;
  updatedAt: string;
  config: Record<string, unknown>;
  staleness: { stale: boolean; staleCases: number; oldestGoldenAt: string | null; staleAfterDays: number };
  versions?: { version: number; change: string; actor: string; caseCount: number; createdAt: string }[];
}

interface RunView {
  id: string;
  status: string;
  workflow: string;
  candidateVersionId: string;
  stableVersionId: string;
  error: string | null;
  summary: {
    outcome: string;
    kinds: {
      kind: string;
      passed: number;
      total: number;
      rate: number | null;
      threshold: number;
      ok: boolean;
    }[];
    cases: { total: number; passed: number; failed: number; errors: number; unstableBaseline: number };
    stopped: string | null;
    notes: string[];
  } | null;
  progress: {
    candidateDone: number;
    candidateTotal: number;
    stableDone: number;
    passed: number;
    failed: number;
    errors: number;
  };
}

type Opts = GlobalOptions & Record<string, unknown>;
const base = (tenant: string) => `/tenants/${seg(tenant)}`;
const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);

function printSuite(s: SuiteView): void {
  const { versions, config, staleness, ...meta } = s;
  printRecord({
    ...meta,
    config,
    stale: staleness.stale
      ? `yes (${staleness.staleCases} case(s) older than ${staleness.staleAfterDays} days)`
      : 'no',
  });
  if (versions) {
    out('');
    printTable(
      ['version', 'change', 'by', 'cases', 'at'],
      versions.map((v) => [v.version, v.change, v.actor, v.caseCount, shortTime(v.createdAt)]),
      'No versions.',
    );
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(
      `${file}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      EXIT.invalid,
    );
  }
}

/** The import body for exactly one of --bfcl, --promptfoo, --file. */
function importBody(o: Opts): Record<string, unknown> {
  const given = [o.bfcl, o.promptfoo, o.file].filter((v) => v !== undefined).length;
  if (given !== 1)
    throw new CliError(
      'give exactly one of --bfcl <cases.json>, --promptfoo <tests.yaml>, --file <suite.json>',
      EXIT.usage,
    );
  const common = {
    replace: o.replace === true ? true : undefined,
    skipInvalid: o.skipInvalid === true ? true : undefined,
  };
  if (typeof o.bfcl === 'string') {
    const answers = typeof o.answers === 'string' ? o.answers : o.bfcl.replace(/\.json$/, '.answers.json');
    return {
      format: 'bfcl',
      cases: readText(o.bfcl),
      answers: readText(answers),
      channel: o.channel,
      closedSchemas: o.closedSchemas === true ? true : undefined,
      ...common,
    };
  }
  if (typeof o.promptfoo === 'string') {
    return {
      format: 'promptfoo',
      tests: readText(o.promptfoo),
      promptTemplate: o.promptTemplate,
      channel: o.channel,
      ...common,
    };
  }
  return { format: 'suite', file: readDocument(String(o.file)), ...common };
}

/** Fetches a text resource (a Markdown or JUnit report), which the JSON client does not read. */
async function getText(o: GlobalOptions, path: string): Promise<string> {
  const token = resolveToken(o, process.env, process.cwd());
  if (!token) throw new CliError('no admin token: pass --token or set SWITCHYARD_TOKEN', EXIT.auth);
  const url = `${resolveUrl(o, process.env)}/admin/v1${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new CliError(`cannot reach ${url}: ${(e as Error).message}`, EXIT.unavailable);
  }
  const text = await res.text();
  if (!res.ok) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    throw new CliError(formatApiError(res.status, res.statusText, parsed), exitCodeForStatus(res.status));
  }
  return text;
}

/**
 * A progress bar on stderr: redrawn in place on a terminal, a line per 10% otherwise (logs in CI
 * stay readable). Stdout keeps only the result.
 */
export class ProgressBar {
  private lastDecile = -1;
  private readonly started = Date.now();
  constructor(private readonly tty = process.stderr.isTTY === true) {}

  render(p: RunView['progress'], width = 30): string {
    const ratio = p.candidateTotal === 0 ? 1 : Math.min(1, p.candidateDone / p.candidateTotal);
    const filled = Math.round(ratio * width);
    const rate = p.candidateDone / Math.max(0.001, (Date.now() - this.started) / 1000);
    const stable = p.stableDone > 0 ? ` · ${p.stableDone} baseline` : '';
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${p.candidateDone}/${p.candidateTotal} · ${p.failed} failing · ${p.errors} errors${stable} · ${rate.toFixed(1)}/s`;
  }

  update(p: RunView['progress']): void {
    const line = this.render(p);
    if (this.tty) {
      process.stderr.write(`\r${line}`);
      return;
    }
    const decile = p.candidateTotal === 0 ? 10 : Math.floor((p.candidateDone / p.candidateTotal) * 10);
    if (decile > this.lastDecile) {
      this.lastDecile = decile;
      process.stderr.write(`${line}\n`);
    }
  }

  done(): void {
    if (this.tty) process.stderr.write('\n');
  }
}

function printRunResult(r: RunView): void {
  const s = r.summary;
  out(`Run ${r.id} (${r.workflow}): ${r.status}${s ? `, ${s.outcome.toUpperCase()}` : ''}`);
  if (!s) {
    if (r.error) out(`error: ${r.error}`);
    return;
  }
  printTable(
    ['kind', 'passed', 'counted', 'rate', 'threshold', ''],
    s.kinds.map((k) => [k.kind, k.passed, k.total, pct(k.rate), pct(k.threshold), k.ok ? 'ok' : 'BELOW']),
    'No assertion kinds.',
  );
  out(
    `cases: ${s.cases.passed} passed, ${s.cases.failed} failed, ${s.cases.errors} errors, ${s.cases.unstableBaseline} unstable baseline (of ${s.cases.total})`,
  );
  if (s.stopped) out(`stopped early: ${s.stopped}`);
  for (const n of s.notes) out(`note: ${n}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function registerSuiteCommands(program: Command): void {
  const suites = program
    .command('suites')
    .description("a tenant's behavioural equivalence test suites (BETS)");

  adminCommand(suites, 'list <tenant>', "list a tenant's suites").action(async (tenant: string, o: Opts) => {
    const res = await connect(o).get<{ items: SuiteView[] }>(`${base(tenant)}/suites`);
    emit(o, res, (r) =>
      printTable(
        ['workflow', 'channel', 'version', 'cases', 'stale', 'updated'],
        r.items.map((s) => [
          s.workflow,
          s.channel,
          s.version,
          s.caseCount,
          s.staleness.stale ? `yes (${s.staleness.staleCases})` : 'no',
          shortTime(s.updatedAt),
        ]),
        `No suites for ${tenant}.`,
      ),
    );
  });

  adminCommand(suites, 'show <tenant> <workflow>', 'show a suite, its configuration and versions').action(
    async (tenant: string, workflow: string, o: Opts) => {
      emit(o, await connect(o).get<SuiteView>(`${base(tenant)}/suites/${seg(workflow)}`), printSuite);
    },
  );

  adminCommand(
    suites,
    'import <tenant> <workflow>',
    'import cases (BFCL, promptfoo or a suite file) as one new suite version',
  )
    .option(
      '--bfcl <cases.json>',
      'a BFCL case file (JSON Lines); its answers from --answers or X.answers.json beside it',
    )
    .option('--answers <file>', 'with --bfcl: the answers file')
    .option('--closed-schemas', 'with --bfcl: refuse arguments a function does not declare')
    .option('--promptfoo <tests.yaml>', 'a promptfoo test file (YAML or JSON)')
    .option('--prompt-template <text>', "with --promptfoo: the prompt the tests' vars fill ({{var}})")
    .option('--file <suite.json>', 'a suite file made by `suites export`')
    .option('--channel <channel>', 'create the suite on this channel if it does not exist')
    .option('--replace', "remove the suite's cases that the import does not contain")
    .option('--skip-invalid', 'import the valid cases and list the refused ones (default: refuse all)')
    .action(async (tenant: string, workflow: string, o: Opts) => {
      const res = await connect(o).post<{
        imported: number;
        rejected: { caseId: string | null; details: { message: string }[] }[];
        warnings: string[];
        suite: SuiteView;
      }>(`${base(tenant)}/suites/${seg(workflow)}/import`, importBody(o));
      emit(o, res, (r) => {
        out(
          `Imported ${r.imported} case(s) into ${r.suite.id}: now version ${r.suite.version} with ${r.suite.caseCount} case(s).`,
        );
        for (const x of r.rejected)
          note(`refused ${x.caseId ?? '(no id)'}: ${x.details.map((d) => d.message).join('; ')}`);
        for (const w of r.warnings) note(`warning: ${w}`);
      });
    });

  adminCommand(
    suites,
    'export <tenant> <workflow>',
    'export a suite version as a JSON file (imports back with --file)',
  )
    .option('--version <n>', 'a past version (default: the current one)', parseInteger('a version', 1))
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (tenant: string, workflow: string, o: Opts) => {
      const file = await connect(o).get<unknown>(`${base(tenant)}/suites/${seg(workflow)}/export`, {
        version: o.version as number | undefined,
      });
      const text = `${JSON.stringify(file, null, 2)}\n`;
      if (typeof o.output === 'string') {
        writeFileSync(o.output, text);
        note(`wrote ${o.output}`);
      } else out(text);
    });

  adminCommand(
    suites,
    'run <tenant> <workflow>',
    'run a suite against a candidate version; exits 1 when the gate does not pass',
  )
    .option(
      '--candidate <versionId>',
      "the candidate (default: the tenant's candidate on the suite's channel)",
    )
    .option('--upgrade <id>', "the upgrade this run belongs to (default: the channel binding's)")
    .option('--k <n>', 'runs of each case per version', parseInteger('a count', 1))
    .addOption(
      new Option('--pass-rule <rule>', 'how k runs of a case make a pass').choices(['majority', 'all']),
    )
    .addOption(
      new Option('--baseline <mode>', 'when the stable version runs a case too').choices([
        'on_failure',
        'always',
        'never',
      ]),
    )
    .option('--concurrency <n>', 'provider calls in flight for this run', parseInteger('a count', 1))
    .option('--no-wait', 'start the run and return its id at once')
    .action(async (tenant: string, workflow: string, o: Opts) => {
      const client = connect(o);
      let run = await client.post<RunView>(`${base(tenant)}/suites/${seg(workflow)}/runs`, {
        candidateVersionId: o.candidate,
        upgradeId: o.upgrade,
        k: o.k,
        passRule: o.passRule,
        baseline: o.baseline,
        concurrency: o.concurrency,
      });
      if (o.wait === false) {
        emit(o, run, (r) =>
          out(`Started run ${r.id}; follow it with \`switchyard suites report ${tenant} ${r.id}\`.`),
        );
        return;
      }
      const bar = o.json ? undefined : new ProgressBar();
      while (run.status === 'running') {
        bar?.update(run.progress);
        await sleep(500);
        run = await client.get<RunView>(`${base(tenant)}/bets/runs/${seg(run.id)}`);
      }
      bar?.update(run.progress);
      bar?.done();
      emit(o, run, printRunResult);
      if (run.summary?.outcome !== 'pass') process.exitCode = EXIT.failure;
    });

  adminCommand(suites, 'report <tenant> <runId>', 'the report of a run: failing cases, expected vs got')
    .addOption(
      new Option('--format <format>', 'json, markdown or junit (XML for CI)')
        .choices(['json', 'markdown', 'junit'])
        .default('markdown'),
    )
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (tenant: string, runId: string, o: Opts) => {
      const format = o.json ? 'json' : String(o.format);
      const text = await getText(o, `${base(tenant)}/bets/runs/${seg(runId)}/report?format=${format}`);
      const body = format === 'json' ? `${JSON.stringify(JSON.parse(text), null, 2)}\n` : text;
      if (typeof o.output === 'string') {
        writeFileSync(o.output, body);
        note(`wrote ${o.output}`);
      } else out(body);
    });
}
