import type { RegistryStore } from '../registry/registry-store.js';
import type { ModelVersion } from '../registry/types.js';
import type { Clock } from '../shared/clock.js';
import { invalidInput, notFound, SwitchyardError } from '../shared/errors.js';
import { newId } from '../shared/ids.js';
import type { BetsStore } from './bets-store.js';
import { type Suite, suiteIdOf } from './bets-types.js';
import { ModelJudge } from './judge.js';
import type { Pricing } from './pricing.js';
import type { ProviderCaller } from './provider-caller.js';
import type { Semaphore } from './rate-limit.js';
import { DEFAULT_RESULT_BATCH, ResultWriter, type ResultWriterOptions } from './result-writer.js';
import { type ExecutionEnd, type RunContext, RunExecutor } from './run-executor.js';
import type {
  Alert,
  AlertPort,
  AttemptResult,
  RunOptions,
  RunProgress,
  RunRecord,
  RunStatus,
  TenantVerdict,
} from './run-types.js';
import { caseOutcome, combineVerdict, DEFAULT_THRESHOLDS, summarize, type Thresholds } from './verdict.js';

export interface RunServiceDeps {
  store: BetsStore;
  registry: RegistryStore;
  caller: ProviderCaller;
  pricing: Pricing;
  clock: Clock;
  /** Bounds provider calls in flight across all runs of the process. */
  global?: Semaphore;
  /** Identifies this process as the runner of the runs it executes. */
  runnerId?: string;
  /** A run whose runner has not beaten its heartbeat for this long may be resumed by another. */
  leaseMs?: number;
  heartbeatMs?: number;
  /** How long a shutdown lets the attempts in flight finish (default 10 s). */
  drainMs?: number;
  defaultConcurrency?: number;
  /** How results are batched into transactions (default: 100 results or 100 ms). */
  resultBatch?: ResultWriterOptions;
  onError?: (err: unknown, runId: string) => void;
  /** Told of each gate alert after it is recorded (the notifier, when there is one). */
  alerts?: AlertPort;
  /** Told of each tenant verdict after it is committed (metrics, OpenTelemetry evaluation events). */
  onVerdict?: (v: TenantVerdict) => void;
  onResult?: (r: AttemptResult) => void;
}

export interface StartRunRequest {
  tenantId: string;
  workflow: string;
  /** Default: the candidate of the tenant's channel binding. */
  candidateVersionId?: string;
  /** Default: the upgrade of the tenant's channel binding. */
  upgradeId?: string | null;
  fleetRunId?: string;
  options?: Partial<RunOptions>;
}

export const invalidJudge = (message: string) =>
  new SwitchyardError(400, 'invalid_judge', message, {
    hint: 'Pin a judge model version of another channel than the one being upgraded (suite config judgeVersionId).',
  });

interface Active {
  controller: AbortController;
  done: Promise<void>;
  cancelled: boolean;
  /** Graceful stop of the executor, once it exists. */
  stop?: () => void;
}

/**
 * Starts, executes, resumes and finishes runs. A run executes in the background of the process
 * that started it, holding a lease kept alive by a heartbeat; a run whose lease lapsed (its
 * process died) is resumed by the next process that looks. The end of a run, its tenant verdict
 * and an alert on failure are written in one transaction.
 */
export class RunService {
  private readonly active = new Map<string, Active>();
  readonly runnerId: string;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly drainMs: number;
  private readonly writer: ResultWriter;
  /** Runs launched so far: each run's priority for the global in-flight bound. */
  private launched = 0;

  constructor(private readonly deps: RunServiceDeps) {
    this.runnerId = deps.runnerId ?? newId('runner');
    this.leaseMs = deps.leaseMs ?? 30_000;
    this.heartbeatMs = deps.heartbeatMs ?? 5_000;
    this.drainMs = deps.drainMs ?? 10_000;
    this.writer = new ResultWriter(deps.store, deps.resultBatch ?? DEFAULT_RESULT_BATCH);
  }

  private iso(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  async thresholdsFor(tenantId: string): Promise<Thresholds> {
    const tenant = await this.deps.registry.get('tenant', tenantId);
    const group = tenant && (await this.deps.registry.get('rollout_group', tenant.rolloutGroup));
    return group?.plan.betsThresholds ?? DEFAULT_THRESHOLDS;
  }

  private async version(id: string, role: string): Promise<ModelVersion> {
    const v = await this.deps.registry.get('model_version', id);
    if (!v) {
      throw new SwitchyardError(
        400,
        'invalid_reference',
        `the ${role} model version '${id}' does not exist`,
        {
          hint: 'List model versions with `switchyard models list`.',
        },
      );
    }
    return v;
  }

  /** The judge a suite pins, refused if it could be judging itself. */
  async checkJudge(
    suite: Pick<Suite, 'channel' | 'config'>,
    candidateId?: string,
  ): Promise<ModelVersion | null> {
    const id = suite.config.judgeVersionId;
    if (id === null) return null;
    const judge = await this.deps.registry.get('model_version', id);
    if (!judge) throw invalidJudge(`the judge model version '${id}' does not exist`);
    if (judge.id === candidateId) {
      throw invalidJudge(`the judge '${id}' is the candidate being tested: a model may not judge itself`);
    }
    if (judge.channel === suite.channel) {
      throw invalidJudge(
        `the judge '${id}' belongs to channel '${judge.channel}', the channel being upgraded: its judgement would move with the upgrade`,
      );
    }
    return judge;
  }

  /** Validates and records a run, then executes it in the background. */
  async startRun(req: StartRunRequest, actor: string): Promise<RunRecord> {
    const suite = await this.deps.store.getSuite(suiteIdOf(req.tenantId, req.workflow));
    if (!suite) throw notFound('Suite', `${req.tenantId}/${req.workflow}`);
    const binding = await this.deps.registry.get('tenant_channel', `${req.tenantId}:${suite.channel}`);
    if (!binding) {
      throw new SwitchyardError(
        400,
        'invalid_reference',
        `tenant '${req.tenantId}' has no binding for channel '${suite.channel}': there is no stable version to compare with`,
        { hint: 'Bind the channel first: `switchyard channels bind`.' },
      );
    }
    const candidateId = req.candidateVersionId ?? binding.candidateVersionId;
    if (!candidateId) {
      throw invalidInput(
        `no candidate version: tenant '${req.tenantId}' has none on channel '${suite.channel}'`,
        [{ path: '/body/candidateVersionId', message: 'required when the channel binding has no candidate' }],
      );
    }
    const candidate = await this.version(candidateId, 'candidate');
    if (candidate.channel !== suite.channel) {
      throw invalidInput(
        `the candidate '${candidate.id}' is of channel '${candidate.channel}', not '${suite.channel}'`,
        [{ path: '/body/candidateVersionId', message: `must be a version of channel '${suite.channel}'` }],
      );
    }
    if (candidate.id === binding.stableVersionId) {
      throw invalidInput(`the candidate '${candidate.id}' is already the tenant's stable version`, [
        { path: '/body/candidateVersionId', message: 'must differ from the stable version' },
      ]);
    }
    const judge = await this.checkJudge(suite, candidate.id);
    if (suite.caseCount === 0) {
      throw invalidInput(`suite '${suite.id}' has no cases to run`, [], 'Add or import cases first.');
    }
    const c = suite.config;
    const now = this.iso();
    const run: RunRecord = {
      id: newId('run'),
      tenantId: suite.tenantId,
      suiteId: suite.id,
      workflow: suite.workflow,
      suiteVersion: suite.version,
      channel: suite.channel,
      candidateVersionId: candidate.id,
      stableVersionId: binding.stableVersionId,
      judgeVersionId: judge?.id ?? null,
      upgradeId: req.upgradeId === undefined ? binding.upgradeId : req.upgradeId,
      fleetRunId: req.fleetRunId ?? null,
      status: 'running',
      options: {
        k: c.k,
        passRule: c.passRule,
        baseline: c.baseline,
        concurrency: this.deps.defaultConcurrency ?? 8,
        caseTimeoutMs: c.caseTimeoutMs,
        maxTokens: c.maxTokens,
        stopOnCaseError: c.stopOnCaseError,
        maxConsecutiveErrors: c.maxConsecutiveErrors,
        ...req.options,
      },
      caseCount: suite.caseCount,
      runner: this.runnerId,
      heartbeatAt: now,
      error: null,
      summary: null,
      createdBy: actor,
      createdAt: now,
      finishedAt: null,
    };
    await this.deps.store.insertRun(run);
    this.launch(run);
    return run;
  }

  /** Resolves when the run executing in this process ends (at once if it is not here). */
  async settled(runId: string): Promise<void> {
    await this.active.get(runId)?.done;
  }

  /** Claims and resumes every run whose runner stopped beating. Returns their ids. */
  async resumeInterrupted(): Promise<string[]> {
    const now = this.deps.clock.now();
    const staleBefore = new Date(now - this.leaseMs).toISOString();
    const resumed: string[] = [];
    for (const run of await this.deps.store.resumableRuns(staleBefore)) {
      if (this.active.has(run.id)) continue;
      if (!(await this.deps.store.claimRun(run.id, this.runnerId, new Date(now).toISOString(), staleBefore)))
        continue;
      this.launch({ ...run, runner: this.runnerId });
      resumed.push(run.id);
    }
    return resumed;
  }

  async cancelRun(runId: string): Promise<RunRecord> {
    const run = await this.deps.store.getRun(runId);
    if (!run) throw notFound('Run', runId);
    if (run.status !== 'running') {
      throw new SwitchyardError(409, 'not_running', `run '${runId}' has already ended (${run.status})`);
    }
    const here = this.active.get(runId);
    if (here) {
      here.cancelled = true;
      here.controller.abort();
      await here.done;
    } else {
      // Running elsewhere (or orphaned): end it here; its runner loses the lease at the next heartbeat.
      await this.deps.store.finishRun(
        runId,
        null,
        { status: 'cancelled', summary: null, error: 'cancelled', at: this.iso() },
        async () => {},
      );
    }
    return (await this.deps.store.getRun(runId)) as RunRecord;
  }

  async progress(run: RunRecord): Promise<RunProgress> {
    const p = await this.deps.store.progress(run.id);
    return {
      ...p,
      caseCount: run.caseCount,
      k: run.options.k,
      candidateTotal: run.caseCount * run.options.k,
    };
  }

  /**
   * Stops local runs without ending them (they stay resumable) and releases their leases. The
   * attempts in flight may finish and be stored for up to `drainMs`; then they are dropped.
   */
  async close(drainMs = this.drainMs): Promise<void> {
    const runs = [...this.active.values()];
    for (const a of runs) a.stop?.();
    const drained = Promise.all(runs.map((a) => a.done));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => {
      timer = setTimeout(() => r('late'), drainMs);
    });
    if ((await Promise.race([drained, late])) === 'late') for (const a of runs) a.controller.abort();
    clearTimeout(timer);
    await drained;
  }

  private launch(run: RunRecord): void {
    const controller = new AbortController();
    const entry: Active = { controller, cancelled: false, done: Promise.resolve() };
    entry.done = this.execute(run, entry).catch((e: unknown) => this.deps.onError?.(e, run.id));
    this.active.set(run.id, entry);
    void entry.done.finally(() => this.active.delete(run.id));
  }

  async loadContext(run: RunRecord): Promise<RunContext> {
    const [cases, candidate, stable] = await Promise.all([
      this.deps.store.listCases(run.suiteId, run.suiteVersion),
      this.version(run.candidateVersionId, 'candidate'),
      this.version(run.stableVersionId, 'stable'),
    ]);
    const judgeVersion = run.judgeVersionId === null ? null : await this.version(run.judgeVersionId, 'judge');
    const judge = judgeVersion
      ? new ModelJudge(this.deps.caller, judgeVersion, run.options.caseTimeoutMs, this.deps.pricing)
      : undefined;
    return { run, cases, candidate, stable, judge };
  }

  private async execute(run: RunRecord, entry: Active): Promise<void> {
    const { store, clock } = this.deps;
    const beat = setInterval(() => {
      store.heartbeat(run.id, this.runnerId, this.iso()).then(
        (held) => {
          if (!held) entry.controller.abort();
        },
        () => {},
      );
    }, this.heartbeatMs);
    beat.unref();
    let ctx: RunContext | undefined;
    try {
      ctx = await this.loadContext(run);
      const executor = new RunExecutor(ctx, {
        store,
        caller: this.deps.caller,
        pricing: this.deps.pricing,
        clock,
        global: this.deps.global,
        ...(this.deps.onResult ? { onResult: this.deps.onResult } : {}),
        writer: this.writer,
        priority: this.launched++,
      });
      entry.stop = () => executor.stop();
      const end = await executor.execute(entry.controller.signal);
      if (entry.cancelled) await this.end(run, ctx, 'cancelled', null, end);
      else if (end.interrupted) await store.releaseRun(run.id, this.runnerId);
      else await this.end(run, ctx, end.stopped ? 'failed' : 'completed', end.stopped, end);
    } catch (e) {
      if (entry.controller.signal.aborted && !entry.cancelled) {
        await store.releaseRun(run.id, this.runnerId).catch(() => {});
        return;
      }
      // The run cannot go on (a model version was deleted, the database failed): it fails with
      // the reason; if even that cannot be written, the lease lapses and it is resumed later.
      await this.end(run, ctx, 'failed', `the run failed: ${(e as Error).message}`, null);
      throw e;
    } finally {
      clearInterval(beat);
    }
  }

  /** Writes the end of a run with its summary, the tenant's verdict and an alert, in one transaction. */
  private async end(
    run: RunRecord,
    ctx: RunContext | undefined,
    status: RunStatus,
    error: string | null,
    end: ExecutionEnd | null,
  ): Promise<void> {
    const { store } = this.deps;
    const at = this.iso();
    const results = await store.listResults(run.id);
    const byCase = new Map<string, AttemptResult[]>();
    for (const r of results) byCase.set(r.caseId, [...(byCase.get(r.caseId) ?? []), r]);
    const thresholds = await this.thresholdsFor(run.tenantId);
    const summary =
      ctx && status !== 'cancelled'
        ? summarize(
            ctx.cases.map((c) => caseOutcome(c, byCase.get(c.id) ?? [], run.options.passRule)),
            results,
            thresholds,
            end?.stopped ?? error,
          )
        : null;
    const suiteIds = new Set(
      (await store.listSuites({ tenantId: run.tenantId, channel: run.channel })).map((s) => s.id),
    );
    suiteIds.add(run.suiteId);
    let alert: Alert | undefined;
    let decided: TenantVerdict | undefined;
    const ended = await store.finishRun(run.id, this.runnerId, { status, summary, error, at }, async (w) => {
      if (summary === null) return;
      const key = {
        tenantId: run.tenantId,
        channel: run.channel,
        candidateVersionId: run.candidateVersionId,
        upgradeId: run.upgradeId ?? '',
      };
      const runs = await w.latestRuns(run.tenantId, run.channel, run.candidateVersionId, run.upgradeId);
      const verdict = combineVerdict(key, [...suiteIds], runs, at);
      await w.upsertVerdict(verdict);
      decided = verdict;
      if (verdict.outcome === 'fail' || verdict.outcome === 'error') {
        alert = gateAlert(verdict, run, at);
        await w.insertAlert(alert);
      }
    });
    if (ended && decided) {
      try {
        this.deps.onVerdict?.(decided);
      } catch (e) {
        this.deps.onError?.(e, run.id);
      }
    }
    // Recorded with the verdict (an outbox the notifier can read); handed to the port after commit.
    if (ended && alert) {
      try {
        await this.deps.alerts?.notify(alert);
      } catch (e) {
        this.deps.onError?.(e, run.id);
      }
    }
  }

  /** The tenant verdict after a run (read back; the run wrote it). */
  async verdictAfter(run: RunRecord): Promise<TenantVerdict | undefined> {
    return this.deps.store.getVerdict({
      tenantId: run.tenantId,
      channel: run.channel,
      candidateVersionId: run.candidateVersionId,
      upgradeId: run.upgradeId ?? '',
    });
  }
}

function gateAlert(verdict: TenantVerdict, run: RunRecord, at: string) {
  return {
    id: newId('alert'),
    at,
    tenantId: run.tenantId,
    kind: 'bets.gate_blocked',
    severity: 'warning' as const,
    subject: `BETS gate ${verdict.outcome === 'fail' ? 'failed' : 'could not decide'} for tenant ${run.tenantId}: ${run.candidateVersionId} on ${run.channel}`,
    detail: {
      runId: run.id,
      workflow: run.workflow,
      channel: run.channel,
      candidateVersionId: run.candidateVersionId,
      upgradeId: run.upgradeId,
      reasons: verdict.reasons,
      report: `/admin/v1/tenants/${run.tenantId}/bets/runs/${run.id}/report`,
    },
  };
}
