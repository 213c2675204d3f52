import type { BetsStore } from '../bets/bets-store.js';
import type { RunService } from '../bets/run-service.js';

export interface GateKey {
  tenantId: string;
  channel: string;
  candidateVersionId: string;
  upgradeId: string;
}

export interface GateVerdict {
  /** null: no run exists yet for this key (the controller starts them); pending: runs under way. */
  outcome: 'pass' | 'fail' | 'pending' | null;
  reason: string | null;
}

/** The BETS gate as the controller sees it (port): the tenant's verdict, and starting its runs. */
export interface BetsGate {
  verdict(key: GateKey): Promise<GateVerdict>;
  /** Starts a run of each of the tenant's suites on the channel that has none for this key; the ids. */
  startRuns(key: GateKey, actor: string): Promise<string[]>;
}

/** What a tenant without any suite on the channel gets: blocked (the default) or let through. */
export type WithoutSuite = 'block' | 'pass';

/**
 * The gate over the BETS services: verdicts from the run store (one per tenant, channel, candidate
 * and upgrade, combining the latest run of each suite), runs started through RunService. Starting
 * is idempotent by looking first: a suite that already has a run for this candidate and upgrade
 * is not run again, so a controller that crashed after starting runs does not start them twice.
 */
export class BetsServicesGate implements BetsGate {
  constructor(
    private readonly deps: {
      store: Pick<BetsStore, 'getVerdict' | 'listSuites' | 'listRuns'>;
      runs: Pick<RunService, 'startRun'>;
      withoutSuite?: WithoutSuite;
    },
  ) {}

  private async runsFor(key: GateKey) {
    const runs = await this.deps.store.listRuns({ tenantId: key.tenantId, limit: 1000 });
    return runs.filter(
      (r) =>
        r.channel === key.channel &&
        r.candidateVersionId === key.candidateVersionId &&
        r.upgradeId === key.upgradeId,
    );
  }

  async verdict(key: GateKey): Promise<GateVerdict> {
    const v = await this.deps.store.getVerdict(key);
    if (v && v.outcome !== 'pending') {
      return {
        outcome: v.outcome === 'pass' ? 'pass' : 'fail',
        reason: v.reasons.length > 0 ? v.reasons.join('; ') : `verdict ${v.outcome}`,
      };
    }
    const suites = await this.deps.store.listSuites({ tenantId: key.tenantId, channel: key.channel });
    if (suites.length === 0) {
      return (this.deps.withoutSuite ?? 'block') === 'pass'
        ? { outcome: 'pass', reason: 'no BETS suite on this channel (let through by configuration)' }
        : { outcome: 'fail', reason: `no BETS suite on channel '${key.channel}'` };
    }
    const runs = await this.runsFor(key);
    if (runs.length === 0) return { outcome: null, reason: null };
    if (runs.every((r) => r.status === 'cancelled'))
      return { outcome: 'fail', reason: 'every BETS run of this candidate was cancelled' };
    return {
      outcome: 'pending',
      reason: `${runs.filter((r) => r.status === 'running').length} run(s) under way`,
    };
  }

  async startRuns(key: GateKey, actor: string): Promise<string[]> {
    const suites = await this.deps.store.listSuites({ tenantId: key.tenantId, channel: key.channel });
    const existing = new Set((await this.runsFor(key)).map((r) => r.suiteId));
    const started: string[] = [];
    for (const s of suites) {
      if (existing.has(s.id)) continue;
      const run = await this.deps.runs.startRun(
        {
          tenantId: key.tenantId,
          workflow: s.workflow,
          candidateVersionId: key.candidateVersionId,
          upgradeId: key.upgradeId,
        },
        actor,
      );
      started.push(run.id);
    }
    return started;
  }
}
