/**
 * The evidence a guard has accumulated since its origin (the stage start, or the last recovery):
 * per rate signal the cumulative counts of both cohorts with the sequential test's state, the
 * judge's moment sums and when each cohort last saw an event. Folding a rollup period is pure and
 * O(signals × grid), so the controller can keep the ledger in its status between reconciles; and
 * because already-folded periods are skipped by their start time, handing the whole series again
 * on every reconcile (level-triggered) folds each period exactly once.
 */
import { foldMsprt, type MsprtConfig, type MsprtState, openMsprt } from './msprt.js';
import {
  addMoments,
  type CohortCounts,
  type MomentSums,
  RATE_SIGNALS,
  type RateSignalName,
  type RollupBucket,
  rateCounts,
  ZERO_MOMENTS,
} from './signals.js';

export interface EvidenceLedger {
  readonly originMs: number;
  /** End of the last folded period; periods starting before it are skipped. */
  readonly foldedThroughMs: number;
  readonly periods: number;
  /** Per rate signal: cumulative counts of both cohorts and the sequential test's state. */
  readonly rates: Readonly<Record<RateSignalName, MsprtState>>;
  readonly toolFailureKinds: {
    readonly canary: Readonly<Record<string, number>>;
    readonly control: Readonly<Record<string, number>>;
  };
  readonly judge: MomentSums;
  readonly lastEventAtMs: { readonly canary: number | null; readonly control: number | null };
}

export function openLedger(originMs: number): EvidenceLedger {
  return {
    originMs,
    foldedThroughMs: originMs,
    periods: 0,
    rates: {
      tool_call_failure: openMsprt(originMs),
      coercion: openMsprt(originMs),
      request_error: openMsprt(originMs),
      task_failure: openMsprt(originMs),
      downstream_error: openMsprt(originMs),
    },
    toolFailureKinds: { canary: {}, control: {} },
    judge: ZERO_MOMENTS,
    lastEventAtMs: { canary: null, control: null },
  };
}

function addKinds(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) {
  if (Object.keys(b).length === 0) return a;
  const out: Record<string, number> = { ...a };
  for (const [kind, n] of Object.entries(b)) out[kind] = (out[kind] ?? 0) + n;
  return out;
}

function foldRate(r: MsprtState, b: RollupBucket, signal: RateSignalName, msprt: MsprtConfig): MsprtState {
  const canary = rateCounts(b.canary, signal);
  const control = rateCounts(b.control, signal);
  // A period without trials in either cohort says nothing about this signal; skipping it keeps the
  // restart schedule tied to periods that carried data.
  if (canary.trials === 0 && control.trials === 0) return r;
  return foldMsprt(r, { startMs: b.startMs, canary, control }, msprt);
}

function later(a: number | null, c: CohortCounts): number | null {
  if (c.lastEventAtMs === null) return a;
  return a === null ? c.lastEventAtMs : Math.max(a, c.lastEventAtMs);
}

/** Folds one period. Periods that start before what was already folded are ignored. */
export function foldPeriod(ledger: EvidenceLedger, bucket: RollupBucket, msprt: MsprtConfig): EvidenceLedger {
  if (bucket.startMs < ledger.foldedThroughMs || bucket.endMs <= bucket.startMs) return ledger;
  const rates = { ...ledger.rates };
  for (const s of RATE_SIGNALS) rates[s] = foldRate(ledger.rates[s], bucket, s, msprt);
  return {
    originMs: ledger.originMs,
    foldedThroughMs: bucket.endMs,
    periods: ledger.periods + 1,
    rates,
    toolFailureKinds: {
      canary: addKinds(ledger.toolFailureKinds.canary, bucket.canary.toolFailureKinds),
      control: addKinds(ledger.toolFailureKinds.control, bucket.control.toolFailureKinds),
    },
    judge: addMoments(ledger.judge, bucket.judge),
    lastEventAtMs: {
      canary: later(ledger.lastEventAtMs.canary, bucket.canary),
      control: later(ledger.lastEventAtMs.control, bucket.control),
    },
  };
}

/**
 * Folds, in time order, every period that is new and settled (ended at least `settleMs` before
 * `nowMs`): a period still receiving late telemetry would otherwise be folded half-full, and the
 * rest of it never.
 */
export function foldSettled(
  ledger: EvidenceLedger,
  buckets: readonly RollupBucket[],
  nowMs: number,
  settleMs: number,
  msprt: MsprtConfig,
): EvidenceLedger {
  const ready = buckets
    .filter((b) => b.startMs >= ledger.foldedThroughMs && b.endMs <= nowMs - settleMs)
    .sort((a, b) => a.startMs - b.startMs);
  let out = ledger;
  for (const b of ready) out = foldPeriod(out, b, msprt);
  return out;
}
