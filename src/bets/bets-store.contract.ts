import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../storage/migrations.js';
import type { SqlDatabase } from '../storage/sql-database.js';
import { BETS_MIGRATIONS } from './bets-migrations.js';
import type { CaseWrite, ChangeMeta } from './bets-store.js';
import { type CaseSpec, DEFAULT_SUITE_CONFIG } from './bets-types.js';
import type { CapturedExample } from './capture-types.js';
import type { AttemptResult, RunRecord, TenantVerdict } from './run-types.js';
import { SqlBetsStore } from './sql-bets-store.js';

/**
 * The BETS store's contract, run against every storage adapter (SQLite and PostgreSQL): the same
 * behaviour, the same guards, nothing half-written.
 */
export function describeBetsStoreContract(
  name: string,
  open: () => Promise<{ db: SqlDatabase; cleanup: () => Promise<void> }>,
): void {
  describe(`BETS store contract: ${name}`, () => {
    let db: SqlDatabase;
    let cleanup: () => Promise<void>;
    let store: SqlBetsStore;

    beforeEach(async () => {
      ({ db, cleanup } = await open());
      await migrate(db, BETS_MIGRATIONS);
      store = new SqlBetsStore(db);
    });
    afterEach(async () => {
      await cleanup();
    });

    const meta = (note: string, at = '2026-03-01T00:00:00.000Z'): ChangeMeta => ({ actor: 'test', note, at });
    const spec = (id: string, text = id): CaseSpec => ({
      id,
      input: { messages: [{ role: 'user', content: text }], tools: [] },
      assertions: [{ kind: 'format', check: 'contains', value: text }],
    });
    const write = (id: string, text?: string): CaseWrite => ({ spec: spec(id, text), source: 'manual' });
    const newSuite = {
      tenantId: 'acme',
      workflow: 'orders',
      channel: 'gpt-x',
      name: 'Orders',
      config: DEFAULT_SUITE_CONFIG,
    };

    it('versions suites: each change a new version, every past version readable', async () => {
      const s1 = await store.createSuite(newSuite, [write('a'), write('b')], meta('created'));
      expect(s1).toMatchObject({ id: 'acme:orders', version: 1, caseCount: 2 });
      expect(await store.createSuite(newSuite, [], meta('again'))).toBeNull();

      const s2 = await store.changeSuite(
        'acme:orders',
        1,
        { upsert: [write('b', 'changed'), write('c')] },
        meta('edit'),
      );
      expect(s2).toMatchObject({ version: 2, caseCount: 3 });
      const s3 = await store.changeSuite('acme:orders', 2, { remove: ['a'] }, meta('remove'));
      expect(s3).toMatchObject({ version: 3, caseCount: 2 });

      expect((await store.listCases('acme:orders', 1)).map((c) => [c.id, c.input.messages[0]])).toEqual([
        ['a', { role: 'user', content: 'a' }],
        ['b', { role: 'user', content: 'b' }],
      ]);
      expect((await store.listCases('acme:orders', 2)).map((c) => [c.id, c.sinceVersion])).toEqual([
        ['a', 1],
        ['b', 2],
        ['c', 2],
      ]);
      expect((await store.listCases('acme:orders', 3)).map((c) => c.id)).toEqual(['b', 'c']);
      expect(
        (await store.listVersions('acme:orders')).map((v) => [v.version, v.change, v.caseCount]),
      ).toEqual([
        [1, 'created', 2],
        [2, 'edit', 3],
        [3, 'remove', 2],
      ]);
    });

    it('makes no version for a change that changes nothing, and refuses stale versions and unknown cases', async () => {
      await store.createSuite(newSuite, [write('a')], meta('created'));
      expect(await store.changeSuite('acme:orders', 1, { upsert: [write('a')] }, meta('same'))).toMatchObject(
        { version: 1 },
      );
      expect(await store.changeSuite('acme:orders', 7, { upsert: [write('b')] }, meta('stale'))).toBe(
        'conflict',
      );
      expect(await store.changeSuite('acme:orders', 1, { remove: ['zz'] }, meta('x'))).toEqual({
        missing: ['zz'],
      });
      expect(await store.listVersions('acme:orders')).toHaveLength(1);
    });

    it('lets only one of two concurrent changes build on a version', async () => {
      await store.createSuite(newSuite, [write('a')], meta('created'));
      const results = await Promise.all([
        store.changeSuite('acme:orders', 1, { upsert: [write('x')] }, meta('one')),
        store.changeSuite('acme:orders', 1, { upsert: [write('y')] }, meta('two')),
      ]);
      expect(results.filter((r) => r === 'conflict')).toHaveLength(1);
      expect((await store.listCases('acme:orders', 2)).map((c) => c.id)).toHaveLength(2);
    });

    it('replaces all cases on request, deletes softly and revives at the next version', async () => {
      await store.createSuite(newSuite, [write('a'), write('b')], meta('created'));
      await store.changeSuite('acme:orders', 1, { upsert: [write('c')], replaceAll: true }, meta('replace'));
      expect((await store.listCases('acme:orders', 2)).map((c) => c.id)).toEqual(['c']);
      expect(await store.deleteSuite('acme:orders', 1, meta('deleted'))).toBe(false);
      expect(await store.deleteSuite('acme:orders', 2, meta('deleted'))).toBe(true);
      expect(await store.getSuite('acme:orders')).toBeUndefined();
      expect(await store.listSuites({ tenantId: 'acme' })).toEqual([]);
      const revived = await store.createSuite(newSuite, [write('d')], meta('revived'));
      expect(revived).toMatchObject({ version: 4, caseCount: 1 });
      expect((await store.listCases('acme:orders', 2)).map((c) => c.id)).toEqual(['c']);
      expect((await store.listCases('acme:orders', 4)).map((c) => c.id)).toEqual(['d']);
    });

    const run = (id: string, over: Partial<RunRecord> = {}): RunRecord => ({
      id,
      tenantId: 'acme',
      suiteId: 'acme:orders',
      workflow: 'orders',
      suiteVersion: 1,
      channel: 'gpt-x',
      candidateVersionId: 'v3',
      stableVersionId: 'v1',
      judgeVersionId: null,
      upgradeId: 'u1',
      fleetRunId: null,
      status: 'running',
      options: {
        k: 1,
        passRule: 'majority',
        baseline: 'on_failure',
        concurrency: 2,
        caseTimeoutMs: 1000,
        maxTokens: 10,
        stopOnCaseError: false,
        maxConsecutiveErrors: 5,
      },
      caseCount: 2,
      runner: 'p1',
      heartbeatAt: '2026-03-01T00:00:00.000Z',
      error: null,
      summary: null,
      createdBy: 'test',
      createdAt: '2026-03-01T00:00:00.000Z',
      finishedAt: null,
      ...over,
    });
    const result = (caseId: string, over: Partial<AttemptResult> = {}): AttemptResult => ({
      runId: 'r1',
      caseId,
      target: 'candidate',
      attempt: 0,
      status: 'pass',
      kinds: { format: true },
      assertions: [{ index: 0, kind: 'format', ok: true, message: 'ok' }],
      answer: { text: 'hi', toolCalls: [] },
      error: null,
      inputTokens: 10,
      outputTokens: 5,
      cost: 0.5,
      latencyMs: 12,
      providerCalls: 1,
      createdAt: '2026-03-01T00:00:01.000Z',
      ...over,
    });

    it('leases runs: claim, heartbeat, release, and resume only stale ones', async () => {
      await store.insertRun(run('r1'));
      expect(await store.claimRun('r1', 'p2', '2026-03-01T00:00:10.000Z', '2026-02-28T00:00:00.000Z')).toBe(
        false,
      );
      expect(await store.resumableRuns('2026-02-28T00:00:00.000Z')).toEqual([]);
      expect((await store.resumableRuns('2026-03-01T00:00:05.000Z')).map((r) => r.id)).toEqual(['r1']);
      expect(await store.claimRun('r1', 'p2', '2026-03-01T00:00:10.000Z', '2026-03-01T00:00:05.000Z')).toBe(
        true,
      );
      expect(await store.heartbeat('r1', 'p1', '2026-03-01T00:00:11.000Z')).toBe(false);
      expect(await store.heartbeat('r1', 'p2', '2026-03-01T00:00:11.000Z')).toBe(true);
      await store.releaseRun('r1', 'p2');
      expect((await store.getRun('r1'))?.runner).toBeNull();
      expect((await store.resumableRuns('2026-01-01T00:00:00.000Z')).map((r) => r.id)).toEqual(['r1']);
    });

    it('writes results idempotently and sums progress', async () => {
      await store.insertRun(run('r1'));
      expect(await store.putResult(result('a'))).toBe(true);
      expect(await store.putResult(result('a', { status: 'fail' }))).toBe(false);
      await store.putResult(result('b', { status: 'error', cost: null, answer: null, error: 'boom' }));
      await store.putResult(result('b', { target: 'stable', status: 'fail' }));
      expect([...(await store.resultKeys('r1'))].sort()).toEqual([
        'a|candidate|0',
        'b|candidate|0',
        'b|stable|0',
      ]);
      const listed = await store.listResults('r1');
      expect(listed[0]).toEqual(result('a'));
      expect(listed[1]).toMatchObject({ status: 'error', error: 'boom', cost: null });
      expect(await store.progress('r1')).toEqual({
        candidateDone: 2,
        stableDone: 1,
        passed: 1,
        failed: 0,
        errors: 1,
        inputTokens: 30,
        outputTokens: 15,
        cost: 1,
      });
    });

    it('ends a run with its verdict and alert in one transaction, or not at all', async () => {
      await store.insertRun(run('r1'));
      const summary = {
        outcome: 'fail' as const,
        kinds: [],
        cases: { total: 2, passed: 1, failed: 1, errors: 0, unstableBaseline: 0 },
        usage: { inputTokens: 0, outputTokens: 0, cost: null, providerCalls: 0 },
        stopped: null,
        notes: [],
      };
      const end = { status: 'completed' as const, summary, error: null, at: '2026-03-01T01:00:00.000Z' };
      await expect(
        store.finishRun('r1', 'p1', end, async (w) => {
          await w.insertAlert({
            id: 'al1',
            at: end.at,
            tenantId: 'acme',
            kind: 'k',
            severity: 'warning',
            subject: 's',
            detail: {},
          });
          throw new Error('verdict could not be computed');
        }),
      ).rejects.toThrow(/verdict/);
      expect((await store.getRun('r1'))?.status).toBe('running');
      expect(await store.listAlerts({ limit: 10 })).toEqual([]);

      expect(await store.finishRun('r1', 'someone-else', end, async () => {})).toBe(false);
      const verdict: TenantVerdict = {
        tenantId: 'acme',
        channel: 'gpt-x',
        candidateVersionId: 'v3',
        upgradeId: 'u1',
        outcome: 'fail',
        kinds: [],
        runIds: ['r1'],
        reasons: ['x'],
        decidedAt: end.at,
      };
      const ok = await store.finishRun('r1', 'p1', end, async (w) => {
        expect((await w.latestRuns('acme', 'gpt-x', 'v3', 'u1')).map((r) => r.id)).toEqual(['r1']);
        await w.upsertVerdict(verdict);
        await w.upsertVerdict({ ...verdict, reasons: ['y'] });
        await w.insertAlert({
          id: 'al1',
          at: end.at,
          tenantId: 'acme',
          kind: 'k',
          severity: 'warning',
          subject: 's',
          detail: { a: 1 },
        });
      });
      expect(ok).toBe(true);
      expect(await store.getRun('r1')).toMatchObject({
        status: 'completed',
        runner: null,
        summary,
        finishedAt: end.at,
      });
      expect(
        await store.getVerdict({
          tenantId: 'acme',
          channel: 'gpt-x',
          candidateVersionId: 'v3',
          upgradeId: 'u1',
        }),
      ).toEqual({ ...verdict, reasons: ['y'] });
      expect(await store.listVerdicts({ tenantId: 'acme' })).toHaveLength(1);
      expect(await store.listAlerts({ tenantId: 'acme', limit: 10 })).toEqual([
        {
          id: 'al1',
          at: end.at,
          tenantId: 'acme',
          kind: 'k',
          severity: 'warning',
          subject: 's',
          detail: { a: 1 },
        },
      ]);
    });

    it('stores capture settings and captured examples, with a status-guarded update', async () => {
      const settings = {
        tenantId: 'acme',
        enabled: true,
        sampleRate: 0.25,
        workflow: 'orders',
        updatedBy: 't',
        updatedAt: '2026-03-01T00:00:00.000Z',
      };
      await store.putCaptureSettings(settings);
      await store.putCaptureSettings({ ...settings, sampleRate: 0.5 });
      expect(await store.listCaptureSettings()).toEqual([{ ...settings, sampleRate: 0.5 }]);
      const capture: CapturedExample = {
        id: 'cap1',
        tenantId: 'acme',
        workflow: 'orders',
        capturedAt: '2026-03-01T00:00:00.000Z',
        input: spec('a').input,
        response: { text: 'hi', toolCalls: [] },
        inputHash: 'h',
        status: 'captured',
        proposal: null,
        note: null,
        reviewedBy: null,
        reviewedAt: null,
        caseId: null,
        updatedAt: '2026-03-01T00:00:00.000Z',
      };
      await store.insertCaptures([capture, { ...capture, id: 'cap2', tenantId: 'other' }]);
      expect(await store.listCaptures({ tenantId: 'acme', limit: 10 })).toEqual([capture]);
      expect(await store.updateCapture({ ...capture, status: 'discarded', note: 'n' }, 'proposed')).toBe(
        false,
      );
      expect(await store.updateCapture({ ...capture, status: 'discarded', note: 'n' }, 'captured')).toBe(
        true,
      );
      expect(await store.listCaptures({ tenantId: 'acme', status: 'discarded', limit: 10 })).toHaveLength(1);
      expect(await store.getCapture('cap1')).toMatchObject({ status: 'discarded', note: 'n' });
    });
  });
}
