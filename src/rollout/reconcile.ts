import type { PlanStage } from '../registry/types.js';
import type {
  GuardFinding,
  ReconcileInputs,
  ReconcileResult,
  RolloutEffect,
  RolloutPhase,
  StepEffect,
  TenantRollout,
} from './rollout-types.js';

const HOUR = 3_600_000;
/** Share of a shadowed tenant's requests mirrored to the candidate; the gateway's bounded
 * queue samples further and drops (counted) under load, so this can be all of them. */
export const SHADOW_PERCENT = 100;

const TERMINAL: ReadonlySet<RolloutPhase> = new Set(['blocked', 'rolled_back', 'complete', 'skipped']);

export function isTerminal(phase: RolloutPhase): boolean {
  return TERMINAL.has(phase);
}

/** Accumulates the outcome of one pass: at most one transition, plus its effects. */
class Pass {
  readonly effects: StepEffect[] = [];
  next: TenantRollout;
  changed = false;
  constructor(
    private readonly current: TenantRollout,
    private readonly now: number,
  ) {
    this.next = { ...current };
  }
  go(phase: RolloutPhase, patch: Partial<TenantRollout> = {}): this {
    this.next = { ...this.next, phase, phaseSince: this.now, ...patch };
    this.changed = true;
    return this;
  }
  effect(effect: RolloutEffect): this {
    const stepId = `${this.next.phase}:${this.next.stage}:${this.next.rollbackStep ?? '-'}:${effect.kind}`;
    if (!this.current.appliedSteps.includes(stepId) && !this.effects.some((e) => e.stepId === stepId)) {
      this.effects.push({ stepId, effect });
      this.changed = true;
    }
    return this;
  }
  result(): ReconcileResult {
    return {
      next: {
        ...this.next,
        appliedSteps: [...this.current.appliedSteps, ...this.effects.map((e) => e.stepId)],
      },
      effects: this.effects,
      changed: this.changed,
    };
  }
}

function approvalsComplete(r: TenantRollout, stageIndex: number, stage: PlanStage): boolean {
  const given = r.approvals.filter((a) => a.stage === stageIndex);
  const parties = new Set(given.map((a) => a.party));
  // Two-party means two people: one person holding both roles does not count twice.
  const people = new Set(given.map((a) => a.by));
  return stage.approvals.every((p) => parties.has(p)) && people.size >= stage.approvals.length;
}

/** Enters canary stage `k`, or waits for its approvals first. */
function enterStage(pass: Pass, r: TenantRollout, inp: ReconcileInputs, k: number): void {
  const stage = inp.plan.stages[k];
  if (!stage) return;
  if (stage.approvals.length > 0 && !approvalsComplete(r, k, stage)) {
    if (r.phase !== 'awaiting_approval' || r.stage !== k) {
      pass.go('awaiting_approval', { stage: k }).effect({
        kind: 'notify',
        event: 'approval_needed',
        detail: `stage ${k + 1}: ${stage.percent}% needs ${stage.approvals.join(' + ')}`,
      });
    }
    return;
  }
  pass
    .go('canary', { stage: k })
    .effect({ kind: 'set_traffic', canaryPercent: stage.percent, shadowPercent: 0 });
}

/** A detected regression: act per the tenant's policy. */
function onRegression(pass: Pass, r: TenantRollout, inp: ReconcileInputs, finding: GuardFinding): void {
  if (inp.actionPolicy === 'rollback') {
    pass
      .go('rolling_back', { rollbackStep: 'freeze', reason: finding.reason })
      .effect({ kind: 'notify', event: 'rollback_started', detail: finding.reason });
    return;
  }
  // pause and escalate both hold the traffic where it is; escalate also hands a person the report.
  pass.go('paused', { resumePhase: r.phase, reason: finding.reason });
  if (inp.actionPolicy === 'escalate')
    pass.effect({ kind: 'incident', trigger: finding, reason: `escalated: ${finding.reason}` });
  pass.effect({
    kind: 'notify',
    event: inp.actionPolicy === 'escalate' ? 'escalated' : 'paused',
    detail: finding.reason,
  });
}

function rollbackStep(pass: Pass, r: TenantRollout, inp: ReconcileInputs): void {
  switch (r.rollbackStep ?? 'freeze') {
    case 'freeze':
      // New sessions go to stable at once; sessions already on the candidate may finish.
      pass.effect({ kind: 'set_traffic', canaryPercent: 0, shadowPercent: 0 });
      pass.go('rolling_back', { rollbackStep: 'drain' });
      return;
    case 'drain':
      if (inp.candidateSessions > 0 && inp.now - r.phaseSince < inp.drainTimeoutMs) return;
      pass.go('rolling_back', { rollbackStep: 'cut' });
      return;
    case 'cut':
      pass.effect({ kind: 'hard_cut' });
      pass.effect({ kind: 'clear_candidate' });
      pass.effect({ kind: 'incident', trigger: inp.guard, reason: r.reason ?? 'rolled back' });
      pass.go('rolled_back', { rollbackStep: 'done' });
      pass.effect({ kind: 'notify', event: 'rolled_back', detail: r.reason ?? '' });
      return;
    case 'done':
      return;
  }
}

/**
 * One reconcile pass for one tenant rollout: pure, so the controller, the simulator and the
 * tests drive the same logic. Ordered steps, each returning early when not done; at most one
 * transition per pass; the effects it asks for are idempotent and carry step ids, so a pass
 * repeated after a crash never records a step twice.
 */
export function reconcile(r: TenantRollout, inp: ReconcileInputs): ReconcileResult {
  const pass = new Pass(r, inp.now);
  if (isTerminal(r.phase)) return pass.result();

  // 1. Abort is a state the loop moves toward.
  if (inp.upgradeState === 'aborted' && r.phase !== 'rolling_back') {
    pass.go('rolling_back', { rollbackStep: 'freeze', reason: 'upgrade aborted' });
    return pass.result();
  }
  if (r.phase === 'rolling_back') {
    rollbackStep(pass, r, inp);
    return pass.result();
  }
  // 2. Paused (this tenant, or the whole upgrade): hold everything where it is.
  if (r.phase === 'paused' || inp.upgradeState === 'paused') return pass.result();

  // 3. A regression wins over any progress, in every phase with candidate traffic.
  const hasTraffic = r.phase === 'shadow' || r.phase === 'canary' || r.phase === 'awaiting_approval';
  if (hasTraffic && inp.guard?.regression) {
    onRegression(pass, r, inp, inp.guard);
    return pass.result();
  }

  switch (r.phase) {
    case 'pending':
      pass.go('gating');
      break;
    case 'gating':
      if (inp.bets === null) {
        // No run yet: start the tenant's suites once (the step id keeps it to one start).
        pass.effect({ kind: 'start_bets' });
      } else if (inp.bets === 'fail') {
        const reason = `BETS verdict: fail${inp.betsReason ? ` (${inp.betsReason})` : ''}`;
        pass.go('blocked', { reason }).effect({ kind: 'notify', event: 'blocked', detail: reason });
      } else if (inp.bets === 'pass') {
        if (inp.plan.shadowHours > 0) {
          pass.go('shadow').effect({ kind: 'set_traffic', canaryPercent: 0, shadowPercent: SHADOW_PERCENT });
        } else {
          enterStage(pass, r, inp, 0);
        }
      }
      break;
    case 'shadow':
      // Never promote on missing data: an inconclusive guard holds the rollout where it is.
      if (inp.now - r.phaseSince >= inp.plan.shadowHours * HOUR && !inp.guard?.inconclusive)
        enterStage(pass, r, inp, 0);
      break;
    case 'awaiting_approval':
      enterStage(pass, r, inp, r.stage);
      break;
    case 'canary': {
      const stage = inp.plan.stages[r.stage];
      if (!stage || inp.now - r.phaseSince < stage.soakHours * HOUR || !inp.guard || inp.guard.inconclusive)
        break;
      if (r.stage + 1 < inp.plan.stages.length) {
        enterStage(pass, r, inp, r.stage + 1);
      } else if (inp.now - r.startedAt >= inp.plan.minDurationHours * HOUR) {
        pass.effect({ kind: 'promote' });
        pass
          .go('complete', { reason: null })
          .effect({ kind: 'notify', event: 'complete', detail: 'candidate is now stable' });
      }
      break;
    }
  }
  return pass.result();
}
