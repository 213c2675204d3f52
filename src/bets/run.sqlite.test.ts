import { afterEach, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../simulator/index.js';
import { memorySqlite } from '../test-support/registry-fixtures.js';
import type { SuiteConfigPatch } from './bets-types.js';
import type { AttemptResult, RunRecord } from './run-types.js';
import {
  type BetsEnv,
  betsEnv,
  bfclCases,
  type SimModels,
  seedTenant,
  startSim,
} from './test-support/bets-fixtures.js';

/** Runs against the provider simulator over real HTTP, on SQLite. */

let sim: RunningSimulator | undefined;
let env: BetsEnv | undefined;
afterEach(async () => {
  await env?.close();
  await sim?.close();
  env = undefined;
  sim = undefined;
});

async function setup(
  models: SimModels,
  opts: Parameters<typeof betsEnv>[2] = {},
  kind?: Parameters<typeof betsEnv>[3],
) {
  sim = await startSim(models);
  env = await betsEnv(await memorySqlite(), sim, opts, kind);
  await seedTenant(env.registry, 'acme');
  return env;
}

async function suiteWith(e: BetsEnv, n: number, config: SuiteConfigPatch = {}, workflow = 'orders') {
  await e.bets.suites.create('acme', { workflow, channel: 'gpt-x', config }, 'test');
  await e.bets.suites.importCases(
    'acme',
    workflow,
    { candidates: bfclCases(n).map((spec) => ({ spec, source: 'bfcl' })), note: 'test' },
    undefined,
    'test',
  );
}

async function runToEnd(e: BetsEnv, workflow = 'orders', options = {}): Promise<RunRecord> {
  const run = await e.bets.runs.startRun({ tenantId: 'acme', workflow, options }, 'test');
  await e.bets.runs.settled(run.id);
  return (await e.bets.store.getRun(run.id)) as RunRecord;
}

describe('BETS runs against the simulator', () => {
  it('passes a candidate that answers like the golden cases, and records the verdict', async () => {
    const e = await setup({});
    await suiteWith(e, 8, { k: 2 });
    const run = await runToEnd(e);
    expect(run.status).toBe('completed');
    expect(run.summary?.outcome).toBe('pass');
    expect(run.summary?.kinds).toEqual([
      expect.objectContaining({ kind: 'tool_call', passed: 8, total: 8, rate: 1 }),
    ]);
    expect(run.summary?.usage.providerCalls).toBe(16);
    expect(run.summary?.usage.inputTokens).toBeGreaterThan(0);
    const verdict = await e.bets.store.getVerdict({
      tenantId: 'acme',
      channel: 'gpt-x',
      candidateVersionId: 'gpt-x-03',
      upgradeId: 'upg-1',
    });
    expect(verdict).toMatchObject({ outcome: 'pass', runIds: [run.id] });
    expect(await e.bets.store.listAlerts({ tenantId: 'acme', limit: 10 })).toEqual([]);
    expect((await e.bets.store.listResults(run.id)).filter((r) => r.target === 'stable')).toEqual([]);
  });

  it('fails a drifting candidate, blocks the tenant with an alert, and excuses cases the stable version fails too', async () => {
    const cases = bfclCases(6);
    const toolOf = (i: number) => String((cases[i]?.assertions[0] as { tool?: string } | undefined)?.tool);
    // The candidate breaks two tools; the stable version breaks the first of them as well.
    const e = await setup({
      candidate: { drift: [{ kind: 'renamed_argument', rate: 1, tools: [toolOf(0), toolOf(1)] }] },
      stable: { drift: [{ kind: 'renamed_argument', rate: 1, tools: [toolOf(0)] }] },
    });
    await suiteWith(e, 6);
    const run = await runToEnd(e);
    expect(run.summary?.outcome).toBe('fail');
    expect(run.summary?.cases).toMatchObject({
      total: 6,
      passed: 4,
      failed: 1,
      unstableBaseline: 1,
      errors: 0,
    });
    expect(run.summary?.kinds[0]).toMatchObject({
      kind: 'tool_call',
      passed: 4,
      total: 5,
      ok: false,
      threshold: 0.95,
    });
    const stableRuns = (await e.bets.store.listResults(run.id)).filter((r) => r.target === 'stable');
    expect(stableRuns.map((r) => r.caseId).sort()).toEqual([cases[0]?.id, cases[1]?.id].sort());
    const verdict = await e.bets.store.getVerdict({
      tenantId: 'acme',
      channel: 'gpt-x',
      candidateVersionId: 'gpt-x-03',
      upgradeId: 'upg-1',
    });
    expect(verdict?.outcome).toBe('fail');
    expect(verdict?.reasons.join(' ')).toMatch(/tool_call pass rate 80\.0% is below 95\.0%/);
    const alerts = await e.bets.store.listAlerts({ tenantId: 'acme', limit: 10 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'bets.gate_blocked', detail: { runId: run.id } });
  });

  it('speaks the Anthropic Messages format to an Anthropic model version', async () => {
    const e = await setup({ candidate: { toolCallAccuracy: 0 } }, {}, 'anthropic');
    await suiteWith(e, 4, { baseline: 'never' });
    const run = await runToEnd(e);
    expect(run.summary?.cases).toMatchObject({ total: 4, failed: 4 });
    const [first] = await e.bets.store.listResults(run.id);
    expect(first?.answer?.toolCalls[0]?.name).toBeTruthy();
    expect(first?.inputTokens).toBeGreaterThan(0);
    await e.bets.suites.update('acme', 'orders', { config: { baseline: 'always' } }, undefined, 'test');
    const withBaseline = await runToEnd(e);
    // The stable version answers right: every failure is the candidate's own.
    expect(withBaseline.summary?.cases).toMatchObject({ failed: 4, unstableBaseline: 0 });
  });

  it('resumes an interrupted run in another process without executing any case twice', async () => {
    let seen = 0;
    let stopFirst: (() => void) | undefined;
    const e = await setup(
      {},
      {
        // Each result written at once, so the stop comes while later cases are still to do.
        resultBatch: { maxBatch: 1, maxDelayMs: 0 },
        onResult: () => {
          seen++;
          if (seen === 3) stopFirst?.();
        },
      },
    );
    stopFirst = () => void e.bets.runs.close();
    await suiteWith(e, 7);
    const started = await e.bets.runs.startRun(
      { tenantId: 'acme', workflow: 'orders', options: { concurrency: 1 } },
      'test',
    );
    await e.bets.runs.settled(started.id);
    const halfway = (await e.bets.store.getRun(started.id)) as RunRecord;
    expect(halfway).toMatchObject({ status: 'running', runner: null });
    // A graceful stop lets the attempt in flight finish and be stored: every call made is recorded.
    const stored = (await e.bets.store.listResults(started.id)).length;
    expect(stored).toBeGreaterThanOrEqual(3);
    expect(stored).toBeLessThan(7);
    expect(sim?.stats().byModel['sim-candidate']).toBe(stored);

    const second = e.another();
    expect(await second.runs.resumeInterrupted()).toEqual([started.id]);
    await second.runs.settled(started.id);
    const done = (await e.bets.store.getRun(started.id)) as RunRecord;
    expect(done.status).toBe('completed');
    expect(done.summary?.cases.passed).toBe(7);
    expect(sim?.stats().byModel['sim-candidate']).toBe(7);
    // A result written twice is kept once.
    const first = (await e.bets.store.listResults(started.id))[0] as AttemptResult;
    expect(await e.bets.store.putResult({ ...first, status: 'fail' })).toBe(false);
    expect((await e.bets.store.listResults(started.id))[0]?.status).toBe('pass');
  });

  it('stops a run whose provider fails every call, with a clear error per case and nothing half-recorded', async () => {
    const e = await setup({ candidate: { errors: { serverError: { rate: 1 } } } });
    await suiteWith(e, 12, { maxConsecutiveErrors: 4 });
    const run = await runToEnd(e, 'orders', { concurrency: 1 });
    expect(run.status).toBe('failed');
    expect(run.summary?.outcome).toBe('error');
    expect(run.summary?.stopped).toMatch(/4 consecutive errors.*HTTP 500/);
    const results = await e.bets.store.listResults(run.id);
    expect(results).toHaveLength(4);
    for (const r of results) {
      expect(r).toMatchObject({
        status: 'error',
        answer: null,
        providerCalls: 3,
        kinds: { tool_call: false },
      });
      expect(r.error).toMatch(/gpt-x-03: the provider answered HTTP 500 \(gave up after 3 attempts\)/);
    }
    const verdict = await e.bets.store.getVerdict({
      tenantId: 'acme',
      channel: 'gpt-x',
      candidateVersionId: 'gpt-x-03',
      upgradeId: 'upg-1',
    });
    expect(verdict?.outcome).toBe('error');
    expect(await e.bets.store.listAlerts({ tenantId: 'acme', limit: 10 })).toHaveLength(1);
  });

  it('stops at the first case error when the suite says so', async () => {
    const e = await setup({ candidate: { errors: { serverError: { rate: 1 } } } });
    await suiteWith(e, 5, { stopOnCaseError: true });
    const run = await runToEnd(e, 'orders', { concurrency: 1 });
    expect(run.summary?.stopped).toMatch(/first case error/);
    expect(await e.bets.store.listResults(run.id)).toHaveLength(1);
  });

  it('retries rate-limited calls (429 with Retry-After) and still passes', async () => {
    const e = await setup({ candidate: { errors: { rateLimit: { rate: 0.4, retryAfterSeconds: 0 } } } });
    await suiteWith(e, 10);
    const run = await runToEnd(e);
    expect(run.summary?.outcome).toBe('pass');
    expect(run.summary?.usage.providerCalls).toBeGreaterThan(10);
  });

  it('scores semantic assertions with the pinned judge, and reports a judge answer that does not parse', async () => {
    const e = await setup({});
    const spec = {
      id: 'greeting',
      input: {
        messages: [{ role: 'user' as const, content: 'Say hello to the new customer Ana.' }],
        tools: [],
      },
      assertions: [
        { kind: 'semantic' as const, golden: 'Hello Ana, welcome!', rubric: 'greets Ana', passScore: 0 },
      ],
    };
    await e.bets.suites.create(
      'acme',
      { workflow: 'greet', channel: 'gpt-x', config: { judgeVersionId: 'judge-1' } },
      'test',
    );
    await e.bets.suites.putCase('acme', 'greet', spec, undefined, 'test');
    const judged = await runToEnd(e, 'greet');
    expect(judged.summary?.outcome).toBe('pass');
    const [ok] = await e.bets.store.listResults(judged.id);
    expect(ok?.assertions[0]?.message).toMatch(/^judge score [\d.]+ \(pass at 0\)/);
    expect(sim?.stats().byModel['sim-judge']).toBe(1);

    // A plain model as judge answers prose, not {"score", "reason"}.
    await e.bets.suites.update('acme', 'greet', { config: { judgeVersionId: 'plain-1' } }, undefined, 'test');
    const broken = await runToEnd(e, 'greet');
    const [bad] = await e.bets.store.listResults(broken.id);
    expect(bad?.status).toBe('error');
    expect(bad?.error).toMatch(/the judge's answer has no score between 0 and 1|is not JSON/);
    expect(broken.summary?.cases.errors).toBe(1);
  });

  it('refuses a judge of the channel being upgraded, or the candidate itself', async () => {
    const e = await setup({});
    const attempt = e.bets.suites.create(
      'acme',
      { workflow: 'x', channel: 'gpt-x', config: { judgeVersionId: 'gpt-x-01' } },
      'test',
    );
    await expect(attempt).rejects.toMatchObject({
      code: 'invalid_judge',
      message: expect.stringMatching(/channel being upgraded/),
    });
    await expect(
      e.bets.runs.checkJudge({ channel: 'judge', config: { judgeVersionId: 'judge-1' } as never }, 'judge-1'),
    ).rejects.toMatchObject({
      code: 'invalid_judge',
      message: expect.stringMatching(/may not judge itself/),
    });
  });

  it('runs a fleet: every eligible tenant in parallel, each verdict as soon as it is ready', async () => {
    const e = await setup({});
    for (const t of ['beta', 'gamma', 'frozen']) await seedTenant(e.registry, t);
    await e.registry.updateTenant({ actor: 'test' }, 'frozen', { frozen: true });
    for (const [t, skip] of [
      ['acme', 0],
      ['beta', 4],
      ['gamma', 8],
    ] as const) {
      await e.bets.suites.create(t, { workflow: 'main', channel: 'gpt-x' }, 'test');
      const specs = bfclCases(4, skip);
      // gamma's first case expects an argument value the model never gives: it fails.
      if (t === 'gamma')
        specs[0] = {
          ...(specs[0] as (typeof specs)[0]),
          assertions: [{ kind: 'tool_call', acceptedValues: { nope: [1] } }],
        };
      await e.bets.suites.importCases(
        t,
        'main',
        { candidates: specs.map((spec) => ({ spec, source: 'bfcl' })), note: 't' },
        undefined,
        'test',
      );
    }
    await e.bets.suites.create('frozen', { workflow: 'main', channel: 'gpt-x' }, 'test');
    const started = await e.bets.fleet.start(
      { channel: 'gpt-x', upgradeId: 'upg-1', options: { baseline: 'never' } },
      'test',
    );
    expect(started.skipped).toEqual([{ tenantId: 'frozen', reason: 'tenant is frozen' }]);
    const verdicts = [];
    for await (const v of started.verdicts) verdicts.push(v);
    await started.done;
    expect(Object.fromEntries(verdicts.map((v) => [v.tenantId, v.outcome]))).toEqual({
      acme: 'pass',
      beta: 'pass',
      gamma: 'fail',
    });
    expect((await e.bets.store.getFleetRun(started.fleetRun.id))?.status).toBe('completed');
  });
});
