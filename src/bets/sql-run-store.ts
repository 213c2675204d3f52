import type { SqlExecutor, SqlParam } from '../storage/sql-database.js';
import { type RunStore, resultKey, type VerdictKey, type VerdictWriter } from './bets-store.js';
import type { FleetRunRecord } from './capture-types.js';
import type {
  Alert,
  AttemptResult,
  RunProgress,
  RunRecord,
  RunStatus,
  RunSummary,
  Target,
  TenantVerdict,
} from './run-types.js';
import { SqlSuiteStore } from './sql-suite-store.js';

interface RunRow {
  id: string;
  tenant_id: string;
  suite_id: string;
  workflow: string;
  suite_version: number;
  channel: string;
  candidate_version_id: string;
  stable_version_id: string;
  judge_version_id: string | null;
  upgrade_id: string | null;
  fleet_run_id: string | null;
  status: RunStatus;
  options: string;
  case_count: number;
  runner: string | null;
  heartbeat_at: string | null;
  error: string | null;
  summary: string | null;
  created_by: string;
  created_at: string;
  finished_at: string | null;
}

const RUN_COLUMNS = [
  'id',
  'tenant_id',
  'suite_id',
  'workflow',
  'suite_version',
  'channel',
  'candidate_version_id',
  'stable_version_id',
  'judge_version_id',
  'upgrade_id',
  'fleet_run_id',
  'status',
  'options',
  'case_count',
  'runner',
  'heartbeat_at',
  'error',
  'summary',
  'created_by',
  'created_at',
  'finished_at',
] as const;
const SELECT_RUN = `SELECT ${RUN_COLUMNS.join(', ')} FROM bets_runs`;

function runFromRow(r: RunRow): RunRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    suiteId: r.suite_id,
    workflow: r.workflow,
    suiteVersion: Number(r.suite_version),
    channel: r.channel,
    candidateVersionId: r.candidate_version_id,
    stableVersionId: r.stable_version_id,
    judgeVersionId: r.judge_version_id,
    upgradeId: r.upgrade_id,
    fleetRunId: r.fleet_run_id,
    status: r.status,
    options: JSON.parse(r.options) as RunRecord['options'],
    caseCount: Number(r.case_count),
    runner: r.runner,
    heartbeatAt: r.heartbeat_at,
    error: r.error,
    summary: r.summary === null ? null : (JSON.parse(r.summary) as RunSummary),
    createdBy: r.created_by,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  };
}

function runToParams(r: RunRecord): SqlParam[] {
  return [
    r.id,
    r.tenantId,
    r.suiteId,
    r.workflow,
    r.suiteVersion,
    r.channel,
    r.candidateVersionId,
    r.stableVersionId,
    r.judgeVersionId,
    r.upgradeId,
    r.fleetRunId,
    r.status,
    JSON.stringify(r.options),
    r.caseCount,
    r.runner,
    r.heartbeatAt,
    r.error,
    r.summary === null ? null : JSON.stringify(r.summary),
    r.createdBy,
    r.createdAt,
    r.finishedAt,
  ];
}

interface ResultRow {
  run_id: string;
  case_id: string;
  target: Target;
  attempt: number;
  status: AttemptResult['status'];
  kinds: string;
  detail: string;
  input_tokens: number;
  output_tokens: number;
  cost: number | null;
  latency_ms: number;
  provider_calls: number;
  created_at: string;
}

function resultFromRow(r: ResultRow): AttemptResult {
  const detail = JSON.parse(r.detail) as Pick<AttemptResult, 'assertions' | 'answer' | 'error'>;
  return {
    runId: r.run_id,
    caseId: r.case_id,
    target: r.target,
    attempt: Number(r.attempt),
    status: r.status,
    kinds: JSON.parse(r.kinds) as AttemptResult['kinds'],
    assertions: detail.assertions,
    answer: detail.answer,
    error: detail.error,
    inputTokens: Number(r.input_tokens),
    outputTokens: Number(r.output_tokens),
    cost: r.cost === null ? null : Number(r.cost),
    latencyMs: Number(r.latency_ms),
    providerCalls: Number(r.provider_calls),
    createdAt: r.created_at,
  };
}

const verdictFromBody = (body: string): TenantVerdict => JSON.parse(body) as TenantVerdict;

class SqlVerdictWriter implements VerdictWriter {
  constructor(private readonly tx: SqlExecutor) {}

  async latestRuns(
    tenantId: string,
    channel: string,
    candidateVersionId: string,
    upgradeId: string | null,
  ): Promise<RunRecord[]> {
    const rows = await this.tx.all<RunRow>(
      `${SELECT_RUN} WHERE tenant_id = ? AND channel = ? AND candidate_version_id = ?
        AND COALESCE(upgrade_id, '') = ? AND status <> 'running' AND summary IS NOT NULL
        ORDER BY finished_at DESC, id DESC`,
      [tenantId, channel, candidateVersionId, upgradeId ?? ''],
    );
    const seen = new Set<string>();
    const out: RunRecord[] = [];
    for (const r of rows) {
      if (seen.has(r.suite_id)) continue;
      seen.add(r.suite_id);
      out.push(runFromRow(r));
    }
    return out;
  }

  async upsertVerdict(v: TenantVerdict): Promise<void> {
    await this.tx.run(
      `INSERT INTO bets_verdicts (tenant_id, channel, candidate_version_id, upgrade_id, outcome, body, decided_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (tenant_id, channel, candidate_version_id, upgrade_id)
        DO UPDATE SET outcome = excluded.outcome, body = excluded.body, decided_at = excluded.decided_at`,
      [v.tenantId, v.channel, v.candidateVersionId, v.upgradeId, v.outcome, JSON.stringify(v), v.decidedAt],
    );
  }

  async insertAlert(a: Alert): Promise<void> {
    await this.tx.run(
      'INSERT INTO bets_alerts (id, at, tenant_id, kind, severity, subject, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [a.id, a.at, a.tenantId, a.kind, a.severity, a.subject, JSON.stringify(a.detail)],
    );
  }
}

/** Idempotent insert: the primary key (run, case, target, attempt) keeps the first result. */
async function insertResult(ex: SqlExecutor, x: AttemptResult): Promise<boolean> {
  const r = await ex.run(
    `INSERT INTO bets_results (run_id, case_id, target, attempt, status, kinds, detail, input_tokens,
      output_tokens, cost, latency_ms, provider_calls, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (run_id, case_id, target, attempt) DO NOTHING`,
    [
      x.runId,
      x.caseId,
      x.target,
      x.attempt,
      x.status,
      JSON.stringify(x.kinds),
      JSON.stringify({ assertions: x.assertions, answer: x.answer, error: x.error }),
      x.inputTokens,
      x.outputTokens,
      x.cost,
      Math.round(x.latencyMs),
      x.providerCalls,
      x.createdAt,
    ],
  );
  return r.changes === 1;
}

/** Runs, per-attempt results, verdicts, alerts and fleet runs over the SQL port. */
export class SqlRunStore extends SqlSuiteStore implements RunStore {
  async insertRun(run: RunRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO bets_runs (${RUN_COLUMNS.join(', ')}) VALUES (${RUN_COLUMNS.map(() => '?').join(', ')})`,
      runToParams(run),
    );
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = await this.db.get<RunRow>(`${SELECT_RUN} WHERE id = ?`, [id]);
    return row ? runFromRow(row) : undefined;
  }

  async listRuns(opts: {
    tenantId?: string;
    suiteId?: string;
    fleetRunId?: string;
    limit: number;
  }): Promise<RunRecord[]> {
    const where: string[] = [];
    const params: SqlParam[] = [];
    for (const [column, value] of [
      ['tenant_id', opts.tenantId],
      ['suite_id', opts.suiteId],
      ['fleet_run_id', opts.fleetRunId],
    ] as const) {
      if (value === undefined) continue;
      where.push(`${column} = ?`);
      params.push(value);
    }
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const rows = await this.db.all<RunRow>(
      `${SELECT_RUN} ${filter} ORDER BY created_at DESC, id DESC LIMIT ?`,
      [...params, opts.limit],
    );
    return rows.map(runFromRow);
  }

  async resumableRuns(staleBefore: string): Promise<RunRecord[]> {
    const rows = await this.db.all<RunRow>(
      `${SELECT_RUN} WHERE status = 'running' AND (runner IS NULL OR heartbeat_at IS NULL OR heartbeat_at < ?)
        ORDER BY created_at`,
      [staleBefore],
    );
    return rows.map(runFromRow);
  }

  async claimRun(id: string, runner: string, now: string, staleBefore: string): Promise<boolean> {
    const r = await this.db.run(
      `UPDATE bets_runs SET runner = ?, heartbeat_at = ? WHERE id = ? AND status = 'running'
        AND (runner IS NULL OR runner = ? OR heartbeat_at IS NULL OR heartbeat_at < ?)`,
      [runner, now, id, runner, staleBefore],
    );
    return r.changes === 1;
  }

  async heartbeat(id: string, runner: string, now: string): Promise<boolean> {
    const r = await this.db.run(
      `UPDATE bets_runs SET heartbeat_at = ? WHERE id = ? AND runner = ? AND status = 'running'`,
      [now, id, runner],
    );
    return r.changes === 1;
  }

  async releaseRun(id: string, runner: string): Promise<void> {
    await this.db.run('UPDATE bets_runs SET runner = NULL WHERE id = ? AND runner = ?', [id, runner]);
  }

  async putResult(x: AttemptResult): Promise<boolean> {
    return insertResult(this.db, x);
  }

  async putResults(results: AttemptResult[]): Promise<number> {
    if (results.length === 0) return 0;
    return this.db.transaction(async (tx) => {
      let n = 0;
      for (const r of results) if (await insertResult(tx, r)) n++;
      return n;
    });
  }

  async listResults(runId: string): Promise<AttemptResult[]> {
    const rows = await this.db.all<ResultRow>(
      'SELECT * FROM bets_results WHERE run_id = ? ORDER BY case_id, target, attempt',
      [runId],
    );
    return rows.map(resultFromRow);
  }

  async resultKeys(runId: string): Promise<Set<string>> {
    const rows = await this.db.all<{ case_id: string; target: Target; attempt: number }>(
      'SELECT case_id, target, attempt FROM bets_results WHERE run_id = ?',
      [runId],
    );
    return new Set(rows.map((r) => resultKey(r.case_id, r.target, Number(r.attempt))));
  }

  async progress(runId: string): Promise<Omit<RunProgress, 'caseCount' | 'k' | 'candidateTotal'>> {
    const rows = await this.db.all<{
      target: Target;
      status: AttemptResult['status'];
      n: number;
      tin: number | null;
      tout: number | null;
      cost: number | null;
      priced: number;
    }>(
      `SELECT target, status, COUNT(*) AS n, SUM(input_tokens) AS tin, SUM(output_tokens) AS tout,
        SUM(cost) AS cost, COUNT(cost) AS priced FROM bets_results WHERE run_id = ? GROUP BY target, status`,
      [runId],
    );
    const p = {
      candidateDone: 0,
      stableDone: 0,
      passed: 0,
      failed: 0,
      errors: 0,
      inputTokens: 0,
      outputTokens: 0,
      cost: null as number | null,
    };
    for (const r of rows) {
      const n = Number(r.n);
      if (r.target === 'candidate') {
        p.candidateDone += n;
        if (r.status === 'pass') p.passed += n;
        else if (r.status === 'fail') p.failed += n;
        else p.errors += n;
      } else {
        p.stableDone += n;
      }
      p.inputTokens += Number(r.tin ?? 0);
      p.outputTokens += Number(r.tout ?? 0);
      if (Number(r.priced) > 0) p.cost = (p.cost ?? 0) + Number(r.cost ?? 0);
    }
    return p;
  }

  async finishRun(
    id: string,
    runner: string | null,
    end: { status: RunStatus; summary: RunSummary | null; error: string | null; at: string },
    consequences: (tx: VerdictWriter) => Promise<void>,
  ): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const set = `UPDATE bets_runs SET status = ?, summary = ?, error = ?, finished_at = ?, runner = NULL
        WHERE id = ? AND status = 'running'`;
      const params: SqlParam[] = [
        end.status,
        end.summary === null ? null : JSON.stringify(end.summary),
        end.error,
        end.at,
        id,
      ];
      const r =
        runner === null
          ? await tx.run(set, params)
          : await tx.run(`${set} AND runner = ?`, [...params, runner]);
      if (r.changes !== 1) return false;
      await consequences(new SqlVerdictWriter(tx));
      return true;
    });
  }

  async getVerdict(key: VerdictKey): Promise<TenantVerdict | undefined> {
    const row = await this.db.get<{ body: string }>(
      'SELECT body FROM bets_verdicts WHERE tenant_id = ? AND channel = ? AND candidate_version_id = ? AND upgrade_id = ?',
      [key.tenantId, key.channel, key.candidateVersionId, key.upgradeId],
    );
    return row ? verdictFromBody(row.body) : undefined;
  }

  async listVerdicts(opts: {
    tenantId?: string;
    channel?: string;
    upgradeId?: string;
  }): Promise<TenantVerdict[]> {
    const where: string[] = [];
    const params: SqlParam[] = [];
    for (const [column, value] of [
      ['tenant_id', opts.tenantId],
      ['channel', opts.channel],
      ['upgrade_id', opts.upgradeId],
    ] as const) {
      if (value === undefined) continue;
      where.push(`${column} = ?`);
      params.push(value);
    }
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const rows = await this.db.all<{ body: string }>(
      `SELECT body FROM bets_verdicts ${filter} ORDER BY decided_at DESC, tenant_id`,
      params,
    );
    return rows.map((r) => verdictFromBody(r.body));
  }

  async listAlerts(opts: { tenantId?: string; limit: number }): Promise<Alert[]> {
    const rows = await this.db.all<{
      id: string;
      at: string;
      tenant_id: string | null;
      kind: string;
      severity: Alert['severity'];
      subject: string;
      detail: string;
    }>(
      opts.tenantId === undefined
        ? 'SELECT * FROM bets_alerts ORDER BY seq DESC LIMIT ?'
        : 'SELECT * FROM bets_alerts WHERE tenant_id = ? ORDER BY seq DESC LIMIT ?',
      opts.tenantId === undefined ? [opts.limit] : [opts.tenantId, opts.limit],
    );
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      tenantId: r.tenant_id,
      kind: r.kind,
      severity: r.severity,
      subject: r.subject,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
    }));
  }

  async insertFleetRun(f: FleetRunRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO bets_fleet_runs (id, upgrade_id, channel, candidate_version_id, status, tenants, created_by,
        created_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        f.id,
        f.upgradeId,
        f.channel,
        f.candidateVersionId,
        f.status,
        JSON.stringify(f.tenants),
        f.createdBy,
        f.createdAt,
        f.finishedAt,
      ],
    );
  }

  async getFleetRun(id: string): Promise<FleetRunRecord | undefined> {
    const r = await this.db.get<{
      id: string;
      upgrade_id: string | null;
      channel: string;
      candidate_version_id: string;
      status: FleetRunRecord['status'];
      tenants: string;
      created_by: string;
      created_at: string;
      finished_at: string | null;
    }>('SELECT * FROM bets_fleet_runs WHERE id = ?', [id]);
    if (!r) return undefined;
    return {
      id: r.id,
      upgradeId: r.upgrade_id,
      channel: r.channel,
      candidateVersionId: r.candidate_version_id,
      status: r.status,
      tenants: JSON.parse(r.tenants) as string[],
      createdBy: r.created_by,
      createdAt: r.created_at,
      finishedAt: r.finished_at,
    };
  }

  async finishFleetRun(id: string, at: string): Promise<void> {
    await this.db.run(`UPDATE bets_fleet_runs SET status = 'completed', finished_at = ? WHERE id = ?`, [
      at,
      id,
    ]);
  }
}
