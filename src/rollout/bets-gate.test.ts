import { describe, expect, it } from 'vitest';
import type { RunRecord, TenantVerdict } from '../bets/run-types.js';
import { BetsServicesGate } from './bets-gate.js';

const key = { tenantId: 'acme', channel: 'gpt-x', candidateVersionId: 'v2', upgradeId: 'upg_1' };

function gate(opts: {
  verdict?: Partial<TenantVerdict>;
  suites?: string[];
  runs?: Partial<RunRecord>[];
  withoutSuite?: 'block' | 'pass';
}) {
  const runs: Partial<RunRecord>[] = [...(opts.runs ?? [])];
  const started: string[] = [];
  const g = new BetsServicesGate({
    store: {
      getVerdict: async () => (opts.verdict ? (opts.verdict as TenantVerdict) : undefined),
      listSuites: async () => (opts.suites ?? []).map((w) => ({ id: `acme/${w}`, workflow: w })) as never,
      listRuns: async () => runs as RunRecord[],
    },
    runs: {
      startRun: async (req) => {
        started.push(req.workflow);
        const run = {
          id: `run_${req.workflow}`,
          suiteId: `acme/${req.workflow}`,
          channel: 'gpt-x',
          candidateVersionId: req.candidateVersionId,
          upgradeId: req.upgradeId ?? null,
          status: 'running' as const,
        };
        runs.push(run);
        return run as RunRecord;
      },
    },
    ...(opts.withoutSuite ? { withoutSuite: opts.withoutSuite } : {}),
  });
  return { g, started };
}

describe('BETS gate over the bets services', () => {
  it('reads a decided verdict, failing on error outcomes too', async () => {
    expect(await gate({ verdict: { outcome: 'pass', reasons: [] } }).g.verdict(key)).toEqual({
      outcome: 'pass',
      reason: 'verdict pass',
    });
    expect(await gate({ verdict: { outcome: 'error', reasons: ['provider down'] } }).g.verdict(key)).toEqual({
      outcome: 'fail',
      reason: 'provider down',
    });
  });

  it('asks for runs when none exist, starts each suite once, then waits', async () => {
    const { g, started } = gate({
      suites: ['support', 'billing'],
      runs: [
        {
          suiteId: 'acme/billing',
          channel: 'gpt-x',
          candidateVersionId: 'v2',
          upgradeId: 'upg_other',
          status: 'completed',
        },
      ],
    });
    expect((await g.verdict(key)).outcome).toBeNull();
    expect(await g.startRuns(key, 'controller')).toEqual(['run_support', 'run_billing']);
    expect(await g.startRuns(key, 'controller')).toEqual([]);
    expect(started).toEqual(['support', 'billing']);
    expect((await g.verdict(key)).outcome).toBe('pending');
  });

  it('blocks a tenant without a suite unless configured to let it through', async () => {
    expect(await gate({}).g.verdict(key)).toEqual({
      outcome: 'fail',
      reason: "no BETS suite on channel 'gpt-x'",
    });
    expect((await gate({ withoutSuite: 'pass' }).g.verdict(key)).outcome).toBe('pass');
  });
});
