import type { RolloutPhase, TenantRollout } from '../rollout-types.js';

/**
 * Phases in which no upgrade is under way for the tenant: ended ones, and `blocked` (the BETS gate
 * failed before any traffic moved, and it waits for a person). A blocked rollout counts as a
 * regression; if it also held the tenant, that regression could never move it.
 */
const AT_REST: ReadonlySet<RolloutPhase> = new Set(['rolled_back', 'complete', 'skipped', 'blocked']);

/** A rollout under way (pending through rolling_back): its tenant is not moved between groups. */
export const isActiveRollout = (r: TenantRollout): boolean => !AT_REST.has(r.phase);

/** A rollout that counts as a regression of the tenant: rolled back, or blocked by its BETS gate. */
export interface RegressionEvent {
  rolloutId: string;
  upgradeId: string;
  phase: 'rolled_back' | 'blocked';
  /** When the rollout entered that phase (epoch ms). */
  at: number;
}

/**
 * The tenant's regressions in the evaluation window: its rollouts that were rolled back, or that
 * are blocked by a failed BETS gate, whose phase began within `windowMs` before `now`. A blocked
 * rollout a person later unblocks stops counting, because only its current phase is known.
 */
export function regressionsIn(
  rollouts: readonly TenantRollout[],
  now: number,
  windowMs: number,
): RegressionEvent[] {
  const since = now - windowMs;
  return rollouts
    .filter(
      (r): r is TenantRollout & { phase: 'rolled_back' | 'blocked' } =>
        (r.phase === 'rolled_back' || r.phase === 'blocked') && r.phaseSince >= since && r.phaseSince <= now,
    )
    .map((r) => ({ rolloutId: r.id, upgradeId: r.upgradeId, phase: r.phase, at: r.phaseSince }))
    .sort((a, b) => a.at - b.at || a.rolloutId.localeCompare(b.rolloutId));
}
