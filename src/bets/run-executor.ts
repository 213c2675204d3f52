import { setMaxListeners } from 'node:events';
import type { ModelVersion } from '../registry/types.js';
import type { Clock } from '../shared/clock.js';
import { type BetsStore, resultKey } from './bets-store.js';
import type { SuiteCase } from './bets-types.js';
import { CaseCompileError, type CompiledCase, compileCase } from './compiled-case.js';
import { evaluate } from './evaluate.js';
import type { Judge } from './judge.js';
import { addCost, type Pricing } from './pricing.js';
import { CallFailed, type ProviderCaller } from './provider-caller.js';
import { buildRequestBody, parseReply } from './provider-codec.js';
import { AbortedError, type Semaphore } from './rate-limit.js';
import { ResultWriter } from './result-writer.js';
import type { AttemptResult, RunRecord, Target } from './run-types.js';
import { type Unit, UnitQueue } from './unit-queue.js';
import { type AttemptLike, caseOutcome, kindsOf } from './verdict.js';

const lite = (r: AttemptResult): AttemptLike => ({
  target: r.target,
  attempt: r.attempt,
  status: r.status,
  kinds: r.kinds,
});

export interface RunContext {
  run: RunRecord;
  cases: SuiteCase[];
  candidate: ModelVersion;
  stable: ModelVersion;
  judge: Judge | undefined;
}

export interface ExecutorDeps {
  store: BetsStore;
  caller: ProviderCaller;
  pricing: Pricing;
  clock: Clock;
  /** Bounds provider calls in flight across every run of the process. */
  global: Semaphore | undefined;
  /** Called after each result is stored (progress displays, tests). */
  onResult?: (r: AttemptResult) => void;
  /** Place of the run in the global queue: lower goes first (runs pass their start order). */
  priority?: number;
  /** Shared by the runs of a process so writes batch across runs; a run makes its own if absent. */
  writer?: ResultWriter;
}

export interface ExecutionEnd {
  /** Why the run stopped before every case ran (error policy); null when it ran to the end. */
  stopped: string | null;
  /** Stopped from outside (shutdown, lost lease, cancel): the run is not finished. */
  interrupted: boolean;
}

/**
 * Executes a run: every case k times on the candidate, and on the stable version per the
 * baseline mode, each attempt stored as it completes. Resuming is the same call: attempts
 * already stored are not executed again.
 *
 * Two ways to stop from outside: stop() lets the attempts in flight finish and be stored (a
 * graceful shutdown: nothing is executed twice after resume); aborting the signal drops them.
 */
export class RunExecutor {
  private readonly compiled = new Map<string, CompiledCase | CaseCompileError>();
  private readonly bodies = new Map<string, string>();
  /** Per case, only what baseline decisions need: full results would be held for the whole run. */
  private readonly byCase = new Map<string, AttemptLike[]>();
  private consecutiveErrors = 0;
  private stopped: string | null = null;
  private queue: UnitQueue | undefined;
  private stopRequested = false;
  private readonly local = new AbortController();

  constructor(
    private readonly ctx: RunContext,
    private readonly deps: ExecutorDeps,
  ) {
    // Every call in flight listens on the run's signal; more than Node's default 10 is expected.
    setMaxListeners(0, this.local.signal);
  }

  /** Graceful stop: no new attempt starts; those in flight finish and are stored. */
  stop(): void {
    this.stopRequested = true;
    this.queue?.close();
  }

  async execute(signal: AbortSignal): Promise<ExecutionEnd> {
    const { run, cases } = this.ctx;
    const done = new Set<string>();
    for (const r of await this.deps.store.listResults(run.id)) {
      this.resultsOf(r.caseId).push(lite(r));
      done.add(resultKey(r.caseId, r.target, r.attempt));
    }
    const queue = new UnitQueue();
    this.queue = queue;
    if (this.stopRequested) queue.close();
    for (const c of cases) {
      for (let a = 0; a < run.options.k; a++) {
        if (!done.has(resultKey(c.id, 'candidate', a))) queue.push({ c, target: 'candidate', attempt: a });
      }
    }
    for (const c of cases) this.scheduleBaseline(c, queue, done);

    const local = this.local;
    const onAbort = () => local.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let fatal: unknown;
    const fail = (e: unknown) => {
      fatal ??= e;
      local.abort();
      queue.close();
    };
    const writer = this.deps.writer ?? new ResultWriter(this.deps.store);
    const stored = (r: AttemptResult) => this.deps.onResult?.(r);
    const worker = async () => {
      for (let u = await queue.take(); u !== undefined; u = await queue.take()) {
        try {
          const result = await this.runUnit(u, local.signal);
          writer.add(result, stored, fail);
          this.afterResult(u, result, queue, done);
        } catch (e) {
          // An abort is expected (policy stop or shutdown); anything else (a bug, the database)
          // stops every worker, and the run is left for the caller to fail or resume.
          if (!(e instanceof AbortedError) && !local.signal.aborted) fail(e);
        } finally {
          queue.done();
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: run.options.concurrency }, worker));
      await writer.flush();
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (fatal !== undefined) throw fatal;
    return { stopped: this.stopped, interrupted: signal.aborted || this.stopRequested };
  }

  private resultsOf(caseId: string): AttemptLike[] {
    let list = this.byCase.get(caseId);
    if (!list) {
      list = [];
      this.byCase.set(caseId, list);
    }
    return list;
  }

  private afterResult(u: Unit, result: AttemptResult, queue: UnitQueue, done: Set<string>): void {
    this.resultsOf(u.c.id).push(lite(result));
    if (u.target !== 'candidate') return;
    this.applyErrorPolicy(result, queue);
    if (this.ctx.run.options.baseline === 'on_failure') this.scheduleBaseline(u.c, queue, done);
  }

  /** Queues the stable attempts a case needs (all, or only once its candidate attempts failed). */
  private scheduleBaseline(c: SuiteCase, queue: UnitQueue, done: Set<string>): void {
    const { k, baseline, passRule } = this.ctx.run.options;
    if (baseline === 'never') return;
    if (baseline === 'on_failure') {
      const candidate = this.resultsOf(c.id).filter((r) => r.target === 'candidate');
      if (candidate.length < k) return;
      // Fast path: every attempt passed, so the case passed whatever the rule.
      if (candidate.every((r) => r.status === 'pass')) return;
      if (caseOutcome(c, candidate, passRule).candidate.passed) return;
    }
    for (let a = 0; a < k; a++) {
      const key = resultKey(c.id, 'stable', a);
      if (!done.has(key)) {
        done.add(key);
        queue.push({ c, target: 'stable', attempt: a });
      }
    }
  }

  /** Stop at the first case error, or after too many in a row (a provider that fails everything). */
  private applyErrorPolicy(result: AttemptResult, queue: UnitQueue): void {
    const { stopOnCaseError, maxConsecutiveErrors } = this.ctx.run.options;
    if (result.status !== 'error') {
      this.consecutiveErrors = 0;
      return;
    }
    this.consecutiveErrors++;
    const last = result.error ?? 'an assertion could not be checked';
    if (stopOnCaseError) this.stopped = `stopped at the first case error (case ${result.caseId}: ${last})`;
    else if (this.consecutiveErrors >= maxConsecutiveErrors) {
      this.stopped = `stopped after ${this.consecutiveErrors} consecutive errors; last: ${last}`;
    }
    if (this.stopped !== null) {
      queue.close();
      this.local.abort();
    }
  }

  private compiledCase(c: SuiteCase): CompiledCase | CaseCompileError {
    let x = this.compiled.get(c.id);
    if (!x) {
      try {
        x = compileCase(c);
      } catch (e) {
        if (!(e instanceof CaseCompileError)) throw e;
        x = e;
      }
      this.compiled.set(c.id, x);
    }
    return x;
  }

  private body(c: SuiteCase, version: ModelVersion, target: Target): string {
    const key = `${target}\u0000${c.id}`;
    let b = this.bodies.get(key);
    if (b === undefined) {
      b = buildRequestBody(version, c.input, this.ctx.run.options.maxTokens);
      // With k > 1 the same body is sent k times; with k = 1 there is nothing to reuse.
      if (this.ctx.run.options.k > 1) this.bodies.set(key, b);
    }
    return b;
  }

  private async runUnit(u: Unit, signal: AbortSignal): Promise<AttemptResult> {
    const release = await this.deps.global?.acquire(this.deps.priority ?? 0);
    try {
      return await this.attempt(u, signal);
    } finally {
      release?.();
    }
  }

  private async attempt(u: Unit, signal: AbortSignal): Promise<AttemptResult> {
    const { run, candidate, stable, judge } = this.ctx;
    const version = u.target === 'candidate' ? candidate : stable;
    const createdAt = new Date(this.deps.clock.now()).toISOString();
    const failed = (error: string, providerCalls: number, latencyMs = 0): AttemptResult => ({
      runId: run.id,
      caseId: u.c.id,
      target: u.target,
      attempt: u.attempt,
      status: 'error',
      kinds: Object.fromEntries(kindsOf(u.c).map((k) => [k, false])),
      assertions: [],
      answer: null,
      error,
      inputTokens: 0,
      outputTokens: 0,
      cost: null,
      latencyMs,
      providerCalls,
      createdAt,
    });
    const compiled = this.compiledCase(u.c);
    if (compiled instanceof CaseCompileError) return failed(compiled.message, 0);
    let res: Awaited<ReturnType<ProviderCaller['call']>>;
    try {
      res = await this.deps.caller.call(
        version,
        this.body(u.c, version, u.target),
        signal,
        run.options.caseTimeoutMs,
        run.tenantId,
      );
    } catch (e) {
      if (e instanceof CallFailed) return failed(`${version.id}: ${e.message}`, e.providerCalls);
      throw e;
    }
    const reply = parseReply(version.providerKind, res.json);
    if (!reply) {
      return failed(
        `${version.id}: the provider's answer is not a ${version.providerKind} completion`,
        res.providerCalls,
        res.latencyMs,
      );
    }
    const ev = await evaluate(compiled, reply.answer, judge, signal);
    const kinds: AttemptResult['kinds'] = {};
    for (const o of ev.outcomes) kinds[o.kind] = (kinds[o.kind] ?? true) && o.ok;
    return {
      runId: run.id,
      caseId: u.c.id,
      target: u.target,
      attempt: u.attempt,
      status: ev.status,
      kinds,
      assertions: ev.outcomes,
      answer: reply.answer,
      error: ev.status === 'error' ? (ev.outcomes.find((o) => o.error)?.message ?? null) : null,
      inputTokens: reply.inputTokens + ev.usage.inputTokens,
      outputTokens: reply.outputTokens + ev.usage.outputTokens,
      cost: addCost(this.deps.pricing.cost(version, reply.inputTokens, reply.outputTokens), ev.usage.cost),
      latencyMs: res.latencyMs,
      providerCalls: res.providerCalls + ev.usage.providerCalls,
      createdAt,
    };
  }
}
