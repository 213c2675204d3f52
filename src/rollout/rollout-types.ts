import type { Decision, GuardState } from '../guard/decide.js';
import type { ActionPolicy, ApprovalParty, RolloutPlan } from '../registry/types.js';

/** A fleet-wide event: channel C moves from version X to version Y. */
export type UpgradeState = 'running' | 'paused' | 'aborted' | 'complete';

export interface Upgrade {
  id: string;
  channel: string;
  fromVersionId: string;
  toVersionId: string;
  state: UpgradeState;
  createdBy: string;
  reason: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** Where one tenant's rollout stands. A union of data, so every state is named and visible. */
export type RolloutPhase =
  | 'pending'
  | 'gating'
  | 'blocked'
  | 'shadow'
  | 'canary'
  | 'awaiting_approval'
  | 'paused'
  | 'rolling_back'
  | 'rolled_back'
  | 'complete'
  | 'skipped';

/** The ordered steps of a rollback; the loop moves through them one pass at a time. */
export type RollbackStep = 'freeze' | 'drain' | 'cut' | 'done';

export interface Approval {
  stage: number;
  party: ApprovalParty;
  by: string;
  at: string;
}

export interface TenantRollout {
  id: string;
  upgradeId: string;
  tenantId: string;
  channel: string;
  groupId: string;
  phase: RolloutPhase;
  /** While paused: the phase to return to on resume. */
  resumePhase: RolloutPhase | null;
  /** Index into the plan's stages while in canary or awaiting_approval. */
  stage: number;
  /** When the current phase (or stage) began, epoch ms. */
  phaseSince: number;
  startedAt: number;
  rollbackStep: RollbackStep | null;
  /** Why the rollout is where it is (skipped, blocked, paused, rolled back). */
  reason: string | null;
  approvals: Approval[];
  /** Step ids whose effects were applied; an effect is never recorded twice. */
  appliedSteps: string[];
  /** What the controller keeps between passes (guard state, last decision); absent until its first pass. */
  control?: RolloutControl;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/**
 * The controller's own status of a tenant rollout, written with the phase in the one status write
 * of a pass: the guard's state for the current traffic window (so every rollup period is folded
 * once, whichever controller process leads), its latest decision, the decision that stopped the
 * rollout (the incident report's trigger) and the BETS runs it started.
 */
export interface RolloutControl {
  /** The traffic window the guard watches: `shadow`, or `canary:<stage>`; a new window opens a new guard. */
  window: string;
  guard: GuardState;
  decision: Decision | null;
  trigger: Decision | null;
  /** Where the rollout stood when a regression (or a person) stopped it, for the incident report. */
  stoppedAt: { phase: RolloutPhase; stage: number } | null;
  betsRuns: string[];
}

/** What the guard (rollback controller) concluded about canary vs control for this tenant. */
export type GuardVerdict = 'continue' | 'pause' | 'rollback' | 'escalate' | 'inconclusive';

export interface GuardFinding {
  /** Whether canary is worse than control: a detected regression, no evidence either way, or clean. */
  regression: boolean;
  inconclusive: boolean;
  reason: string;
  evidence: Record<string, unknown>;
}

export interface ReconcileInputs {
  now: number;
  upgradeState: UpgradeState;
  plan: RolloutPlan;
  actionPolicy: ActionPolicy;
  /**
   * The BETS verdict for this tenant and candidate: null while no run exists (the gating step
   * starts them), `pending` while runs are under way.
   */
  bets: 'pass' | 'fail' | 'pending' | null;
  /** Why the verdict is what it is (shown as the blocked reason). */
  betsReason?: string;
  /** The guard's finding on the current window, or null when it has not evaluated yet. */
  guard: GuardFinding | null;
  /** Sessions still pinned to the candidate (for the drain step of a rollback). */
  candidateSessions: number;
  drainTimeoutMs: number;
}

/** Side effects a reconcile pass asks for; each is idempotent. */
export type RolloutEffect =
  | { kind: 'set_traffic'; canaryPercent: number; shadowPercent: number }
  | { kind: 'start_bets' }
  | { kind: 'promote' }
  | { kind: 'hard_cut' }
  | { kind: 'clear_candidate' }
  | { kind: 'incident'; trigger: GuardFinding | null; reason: string }
  | { kind: 'notify'; event: string; detail: string };

export interface StepEffect {
  /** Unique per rollout: `<phase>:<stage>:<kind>`; recorded in appliedSteps once applied. */
  stepId: string;
  effect: RolloutEffect;
}

export interface ReconcileResult {
  next: TenantRollout;
  effects: StepEffect[];
  /** False when nothing changed (no status write needed). */
  changed: boolean;
}
