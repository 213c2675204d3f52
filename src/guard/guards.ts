/**
 * The guards around the statistics: data that cannot be trusted (source down, a cohort silent,
 * rollups stalled) decides nothing; and the phases that give hysteresis — a regression must
 * persist before anyone acts on it, and a held rollout resumes only after its evidence cleared,
 * with margin, for a while. Phases and their reasons are data (a union), as in Argo Rollouts,
 * so the controller can store them in the rollout status and a person can read them.
 */
import type { LedgerSnapshot } from './clearance.js';
import type { GuardConfig } from './config.js';
import type { Evidence, SourceUnavailableEvidence, StalenessEvidence, Trigger } from './evidence.js';
import type { EvidenceLedger } from './ledger.js';

export type DataSourceStatus =
  | { readonly kind: 'available' }
  | { readonly kind: 'unavailable'; readonly sinceMs: number; readonly detail: string };

/**
 * Why the data cannot be judged right now, or null when it can. A cohort that went silent is as
 * suspicious as a regression (the canary may be receiving nothing, or the pipeline stopped), but
 * silence is not evidence of health, so the answer is "inconclusive", never "continue".
 */
export function dataProblem(
  ledger: EvidenceLedger,
  source: DataSourceStatus,
  nowMs: number,
  config: GuardConfig,
): StalenessEvidence | SourceUnavailableEvidence | null {
  const window = { fromMs: ledger.originMs, toMs: ledger.foldedThroughMs };
  if (source.kind === 'unavailable') {
    return {
      kind: 'source_unavailable',
      method: 'source-availability',
      statistic: Math.max(0, nowMs - source.sinceMs),
      threshold: 0,
      window,
      counts: { periods: ledger.periods },
      rates: {},
      detail: source.detail,
    };
  }
  const pipelineSilence = nowMs - config.settleMs - ledger.foldedThroughMs;
  const canarySilence = nowMs - (ledger.lastEventAtMs.canary ?? ledger.originMs);
  const controlSilence = nowMs - (ledger.lastEventAtMs.control ?? ledger.originMs);
  const silence = Math.max(pipelineSilence, canarySilence, controlSilence);
  if (silence <= config.staleAfterMs) return null;
  return {
    kind: 'stale',
    method: 'staleness',
    statistic: silence,
    threshold: config.staleAfterMs,
    window,
    counts: { periods: ledger.periods },
    rates: {},
    lastEventAtMs: ledger.lastEventAtMs,
    foldedThroughMs: ledger.foldedThroughMs,
  };
}

/** Consecutive evaluations that agreed, and since when. */
export interface Streak {
  readonly sinceMs: number;
  readonly evaluations: number;
}

export function extendStreak(streak: Streak | null, nowMs: number): Streak {
  return streak
    ? { sinceMs: streak.sinceMs, evaluations: streak.evaluations + 1 }
    : { sinceMs: nowMs, evaluations: 1 };
}

/** Both a count and a duration: evaluations may come faster than data does. */
export function streakMet(
  streak: Streak,
  rule: { readonly evaluations: number; readonly minDurationMs: number },
  nowMs: number,
): boolean {
  return streak.evaluations >= rule.evaluations && nowMs - streak.sinceMs >= rule.minDurationMs;
}

export type HoldAction = 'pause' | 'escalate';

/** Where the guard of one tenant stage stands. */
export type GuardPhase =
  /** No regression seen (or not enough data to see one). */
  | { readonly kind: 'watching' }
  /** A regression seen, not yet for long enough to act on. */
  | { readonly kind: 'confirming'; readonly trigger: Trigger; readonly streak: Streak }
  /** Paused or escalated: canary traffic stays where it is until the trigger clears or a person acts. */
  | {
      readonly kind: 'holding';
      readonly action: HoldAction;
      readonly trigger: Trigger;
      readonly sinceMs: number;
      readonly evidence: Evidence;
      readonly snapshot: LedgerSnapshot;
      readonly clearing: Streak | null;
    }
  /** Terminal: a person must look before any retry (DESIGN.md, lifecycle). */
  | {
      readonly kind: 'rolled_back';
      readonly trigger: Trigger;
      readonly atMs: number;
      readonly evidence: Evidence;
    };

export type PhaseKind = GuardPhase['kind'];
