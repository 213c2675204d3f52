import { describe, expect, it } from 'vitest';
import { DEFAULT_GROUPS } from '../registry/default-groups.js';
import type { RolloutPlan } from '../registry/types.js';
import { reconcile } from './reconcile.js';
import type { GuardFinding, ReconcileInputs, RolloutEffect, TenantRollout } from './rollout-types.js';

const HOUR = 3_600_000;
const planOf = (id: string): RolloutPlan => {
  const g = DEFAULT_GROUPS.find((x) => x.id === id);
  if (!g) throw new Error(id);
  return g.plan;
};
const CLEAN: GuardFinding = {
  regression: false,
  inconclusive: false,
  reason: 'canary within control',
  evidence: {},
};
const REGRESSED: GuardFinding = {
  regression: true,
  inconclusive: false,
  reason: 'tool-call failure 9.0% vs 1.0%',
  evidence: { canary: 0.09 },
};
const NO_DATA: GuardFinding = {
  regression: false,
  inconclusive: true,
  reason: 'too few samples',
  evidence: {},
};

function rollout(overrides: Partial<TenantRollout> = {}): TenantRollout {
  return {
    id: 'r1',
    upgradeId: 'upg1',
    tenantId: 'acme',
    channel: 'gpt-x',
    groupId: 'standard',
    phase: 'pending',
    resumePhase: null,
    stage: 0,
    phaseSince: 0,
    startedAt: 0,
    rollbackStep: null,
    reason: null,
    approvals: [],
    appliedSteps: [],
    version: 1,
    createdAt: '',
    updatedAt: '',
    ...overrides,
  };
}

/** Drives passes on a clock, as the controller would, collecting every effect applied. */
function drive(
  start: TenantRollout,
  inputs: Partial<ReconcileInputs> & { plan: RolloutPlan },
  opts: { hours: number; stepHours?: number },
) {
  let r = start;
  const effects: RolloutEffect[] = [];
  const phases: string[] = [r.phase];
  for (let t = 0; t <= opts.hours * HOUR; t += (opts.stepHours ?? 1) * HOUR) {
    const out = reconcile(r, {
      now: t,
      upgradeState: 'running',
      actionPolicy: 'rollback',
      bets: 'pass',
      guard: CLEAN,
      candidateSessions: 0,
      drainTimeoutMs: 90_000,
      ...inputs,
    });
    effects.push(...out.effects.map((e) => e.effect));
    r = out.next;
    if (phases.at(-1) !== `${r.phase}${r.phase === 'canary' ? r.stage : ''}`)
      phases.push(`${r.phase}${r.phase === 'canary' ? r.stage : ''}`);
  }
  return { r, effects, phases };
}

describe('rollout reconcile', () => {
  it('takes a standard tenant through gating, shadow, 5 -> 25 -> 50 -> 100 with soaks, then promotes', () => {
    const { r, effects, phases } = drive(rollout(), { plan: planOf('standard') }, { hours: 24 * 6 });
    expect(phases).toEqual([
      'pending',
      'gating',
      'shadow',
      'canary0',
      'canary1',
      'canary2',
      'canary3',
      'complete',
    ]);
    expect(
      effects
        .filter((e) => e.kind === 'set_traffic')
        .map((e) => (e.kind === 'set_traffic' ? [e.canaryPercent, e.shadowPercent] : [])),
    ).toEqual([
      [0, 100],
      [5, 0],
      [25, 0],
      [50, 0],
      [100, 0],
    ]);
    expect(effects.filter((e) => e.kind === 'promote')).toHaveLength(1);
    expect(r.phase).toBe('complete');
  });

  it('blocks a tenant whose BETS verdict fails, and never retries it by itself', () => {
    const { r, effects } = drive(rollout(), { plan: planOf('standard'), bets: 'fail' }, { hours: 48 });
    expect(r).toMatchObject({ phase: 'blocked', reason: 'BETS verdict: fail' });
    expect(effects.filter((e) => e.kind === 'set_traffic')).toHaveLength(0);
  });

  it('waits at every conservative stage for both a platform and a tenant approval, from two people', () => {
    const plan = planOf('conservative');
    let { r } = drive(rollout({ groupId: 'conservative' }), { plan }, { hours: 80 });
    expect([r.phase, r.stage]).toEqual(['awaiting_approval', 0]);
    r = {
      ...r,
      approvals: [
        { stage: 0, party: 'platform', by: 'pat', at: '' },
        { stage: 0, party: 'tenant', by: 'pat', at: '' },
      ],
    };
    r = reconcile(r, {
      now: 81 * HOUR,
      upgradeState: 'running',
      plan,
      actionPolicy: 'rollback',
      bets: 'pass',
      guard: CLEAN,
      candidateSessions: 0,
      drainTimeoutMs: 1,
    }).next;
    expect(r.phase).toBe('awaiting_approval');
    r = { ...r, approvals: [...r.approvals, { stage: 0, party: 'tenant', by: 'tina', at: '' }] };
    const out = reconcile(r, {
      now: 82 * HOUR,
      upgradeState: 'running',
      plan,
      actionPolicy: 'rollback',
      bets: 'pass',
      guard: CLEAN,
      candidateSessions: 0,
      drainTimeoutMs: 1,
    });
    expect([out.next.phase, out.next.stage]).toEqual(['canary', 0]);
    expect(out.effects.map((e) => e.effect)).toEqual([
      { kind: 'set_traffic', canaryPercent: 1, shadowPercent: 0 },
    ]);
  });

  it('rolls back on a regression: freeze, drain until the timeout, hard cut, clear the candidate, incident', () => {
    const plan = planOf('standard');
    const start = rollout({ phase: 'canary', stage: 1, phaseSince: 0 });
    const base = {
      upgradeState: 'running' as const,
      plan,
      actionPolicy: 'rollback' as const,
      bets: 'pass' as const,
      drainTimeoutMs: 90_000,
    };
    const a = reconcile(start, { ...base, now: 1000, guard: REGRESSED, candidateSessions: 12 });
    expect(a.next).toMatchObject({ phase: 'rolling_back', rollbackStep: 'freeze', reason: REGRESSED.reason });
    const b = reconcile(a.next, { ...base, now: 2000, guard: REGRESSED, candidateSessions: 12 });
    expect(b.effects.map((e) => e.effect)).toEqual([
      { kind: 'set_traffic', canaryPercent: 0, shadowPercent: 0 },
    ]);
    expect(b.next.rollbackStep).toBe('drain');
    const c = reconcile(b.next, { ...base, now: 60_000, guard: REGRESSED, candidateSessions: 3 });
    expect(c.changed).toBe(false);
    const d = reconcile(c.next, { ...base, now: 2000 + 90_000, guard: REGRESSED, candidateSessions: 3 });
    expect(d.next.rollbackStep).toBe('cut');
    const e = reconcile(d.next, { ...base, now: 93_000, guard: REGRESSED, candidateSessions: 3 });
    expect(e.effects.map((x) => x.effect.kind)).toEqual([
      'hard_cut',
      'clear_candidate',
      'incident',
      'notify',
    ]);
    expect(e.next.phase).toBe('rolled_back');
    // Rolled back is final: a later clean signal does not restart it.
    expect(reconcile(e.next, { ...base, now: 10 * HOUR, guard: CLEAN, candidateSessions: 0 }).changed).toBe(
      false,
    );
  });

  it('drains early when no session is left on the candidate', () => {
    const plan = planOf('standard');
    const r = rollout({ phase: 'rolling_back', rollbackStep: 'drain', phaseSince: 0 });
    const out = reconcile(r, {
      now: 5000,
      upgradeState: 'running',
      plan,
      actionPolicy: 'rollback',
      bets: 'pass',
      guard: REGRESSED,
      candidateSessions: 0,
      drainTimeoutMs: 90_000,
    });
    expect(out.next.rollbackStep).toBe('cut');
  });

  it('pauses (holding traffic) or escalates with a report, per the tenant policy', () => {
    const plan = planOf('standard');
    const r = rollout({ phase: 'canary', stage: 2 });
    const base = {
      now: 1,
      upgradeState: 'running' as const,
      plan,
      bets: 'pass' as const,
      guard: REGRESSED,
      candidateSessions: 5,
      drainTimeoutMs: 1,
    };
    const paused = reconcile(r, { ...base, actionPolicy: 'pause' });
    expect(paused.next).toMatchObject({ phase: 'paused', resumePhase: 'canary', stage: 2 });
    expect(paused.effects.map((e) => e.effect.kind)).toEqual(['notify']);
    const escalated = reconcile(r, { ...base, actionPolicy: 'escalate' });
    expect(escalated.effects.map((e) => e.effect.kind)).toEqual(['incident', 'notify']);
    // While paused nothing moves, whatever the signals say.
    expect(
      reconcile(paused.next, { ...base, now: 99 * HOUR, guard: CLEAN, actionPolicy: 'pause' }).changed,
    ).toBe(false);
  });

  it('never promotes on missing data: an inconclusive guard holds the stage', () => {
    const plan = planOf('early');
    const { r } = drive(rollout({ phase: 'canary', stage: 1 }), { plan, guard: NO_DATA }, { hours: 200 });
    expect([r.phase, r.stage]).toEqual(['canary', 1]);
  });

  it('moves every tenant of an aborted upgrade toward rolled back', () => {
    const plan = planOf('standard');
    const out = reconcile(rollout({ phase: 'canary', stage: 0 }), {
      now: 1,
      upgradeState: 'aborted',
      plan,
      actionPolicy: 'pause',
      bets: 'pass',
      guard: CLEAN,
      candidateSessions: 0,
      drainTimeoutMs: 1,
    });
    expect(out.next).toMatchObject({
      phase: 'rolling_back',
      rollbackStep: 'freeze',
      reason: 'upgrade aborted',
    });
  });

  it('is idempotent: a pass repeated on the same state asks for no effect twice', () => {
    const plan = planOf('pioneers');
    const inp: ReconcileInputs = {
      now: 10,
      upgradeState: 'running',
      plan,
      actionPolicy: 'rollback',
      bets: 'pass',
      guard: CLEAN,
      candidateSessions: 0,
      drainTimeoutMs: 1,
    };
    const first = reconcile(rollout({ phase: 'gating' }), inp);
    expect(first.effects.map((e) => e.effect)).toEqual([
      { kind: 'set_traffic', canaryPercent: 100, shadowPercent: 0 },
    ]);
    // The controller applied the effect but crashed before writing status: it runs the pass again
    // on the old state and gets the same step id, which the effect applier treats as done.
    const again = reconcile(rollout({ phase: 'gating' }), inp);
    expect(again.effects.map((e) => e.stepId)).toEqual(first.effects.map((e) => e.stepId));
    // Once the status is written, the same step is never asked for again.
    const after = reconcile(first.next, inp);
    expect(after.effects.filter((e) => first.effects.some((f) => f.stepId === e.stepId))).toEqual([]);
  });

  it('starts the BETS runs once while no run exists, then waits for the verdict', () => {
    const plan = planOf('standard');
    const inp: ReconcileInputs = {
      now: 10,
      upgradeState: 'running',
      plan,
      actionPolicy: 'rollback',
      bets: null,
      guard: null,
      candidateSessions: 0,
      drainTimeoutMs: 1,
    };
    const first = reconcile(rollout({ phase: 'gating' }), inp);
    expect(first.effects.map((e) => e.effect)).toEqual([{ kind: 'start_bets' }]);
    expect(first.next.phase).toBe('gating');
    // Recorded: a later pass that still sees no run does not start them again.
    expect(reconcile(first.next, inp).changed).toBe(false);
    expect(reconcile(first.next, { ...inp, bets: 'pending' }).changed).toBe(false);
    const blocked = reconcile(first.next, { ...inp, bets: 'fail', betsReason: 'format 0.90 < 0.97' });
    expect(blocked.next).toMatchObject({
      phase: 'blocked',
      reason: 'BETS verdict: fail (format 0.90 < 0.97)',
    });
  });
});
