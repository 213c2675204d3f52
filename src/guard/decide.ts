/**
 * One evaluation of a tenant stage's rollback guard: fold the new settled rollups, run the checks,
 * move the phase, and say what to do — with the evidence. Pure apart from reading the injected
 * clock: the same state, input and time give the same decision, so a 21-day timeline replays in
 * seconds and the reconcile loop may call it as often as it likes (level-triggered).
 *
 * Order matters, and each step returns early:
 *  1. A rolled-back stage stays rolled back: only a person retries (DESIGN.md, lifecycle).
 *  2. Untrustworthy data (source down, a cohort silent, rollups stalled) decides nothing: a held
 *     stage stays held, a watched one is inconclusive. Never `continue` on silence.
 *  3. A held stage resumes only when its trigger cleared with margin, persistently (clearance.ts).
 *  4. A regression acts only after persisting (`persistence`); then the tenant's action policy
 *     picks pause, rollback or escalate.
 *  5. Otherwise `continue` — but only when enough data was seen to mean it.
 */
import type { ActionPolicy } from '../registry/types.js';
import type { Clock } from '../shared/clock.js';
import { minSamplesEvidence, runChecks, signalLabel } from './checks.js';
import { clearance, snapshotLedger } from './clearance.js';
import type { GuardConfig } from './config.js';
import type { CheckKind, Evidence, Finding } from './evidence.js';
import {
  type DataSourceStatus,
  dataProblem,
  extendStreak,
  type GuardPhase,
  type PhaseKind,
  streakMet,
} from './guards.js';
import { type EvidenceLedger, foldSettled, openLedger } from './ledger.js';
import type { LatencyWindow, RollupBucket, SignalName } from './signals.js';

export type Verdict = 'continue' | 'pause' | 'rollback' | 'escalate' | 'inconclusive';

export interface GuardState {
  readonly ledger: EvidenceLedger;
  readonly phase: GuardPhase;
}

export interface GuardInput {
  /** Rollups since the stage started; periods already folded are skipped, unsettled ones wait. */
  readonly buckets: readonly RollupBucket[];
  readonly source: DataSourceStatus;
  /** The tenant's action policy on a confirmed regression. */
  readonly policy: ActionPolicy;
  /** Latency quantiles of both cohorts over a recent window, when the telemetry layer has them. */
  readonly latency?: LatencyWindow;
}

export interface Decision {
  readonly verdict: Verdict;
  /** The signal the verdict rests on; null when the data itself is the problem. */
  readonly signal: SignalName | null;
  readonly evidence: Evidence;
  readonly reason: string;
  readonly atMs: number;
  /** The phase after this evaluation. */
  readonly phase: PhaseKind;
  /** Every check's result at this evaluation, for the dashboard and the incident report. */
  readonly findings: readonly Finding[];
}

export interface GuardDeps {
  readonly clock: Clock;
  readonly config: GuardConfig;
}

export interface Evaluation {
  readonly decision: Decision;
  readonly state: GuardState;
}

/** A fresh guard for a stage (or any window) that starts at `originMs`. */
export function openGuard(originMs: number): GuardState {
  return { ledger: openLedger(originMs), phase: { kind: 'watching' } };
}

const CHECK_PRIORITY: Readonly<Record<CheckKind, number>> = { cap: 0, comparison: 1, judge: 2, latency: 3 };

/** Hard caps first (they hold whatever the control does), then by how far past its threshold. */
function mostSevere(findings: readonly Finding[]): Finding | null {
  let best: Finding | null = null;
  for (const f of findings) {
    if (f.status !== 'regressed') continue;
    if (
      !best ||
      CHECK_PRIORITY[f.check] < CHECK_PRIORITY[best.check] ||
      (f.check === best.check &&
        f.evidence.statistic - f.evidence.threshold > best.evidence.statistic - best.evidence.threshold)
    ) {
      best = f;
    }
  }
  return best;
}

/**
 * With no regression: `continue` rests on the comparison closest to firing (so the evidence shows
 * the tightest margin) — but only when every required signal, and at least one rate comparison,
 * has enough data; otherwise the finding that is short of data.
 */
function restingOn(
  findings: readonly Finding[],
  config: GuardConfig,
): { readonly enough: boolean; readonly finding: Finding } | null {
  for (const required of config.requiredSignals) {
    const f = findings.find((x) => x.signal === required && x.status === 'insufficient');
    if (f) return { enough: false, finding: f };
  }
  let closest: Finding | null = null;
  let nearest: Finding | null = null;
  for (const f of findings) {
    if (f.check !== 'comparison') continue;
    const margin = f.evidence.statistic - f.evidence.threshold;
    if (f.status === 'insufficient') {
      if (!nearest || f.evidence.statistic > nearest.evidence.statistic) nearest = f;
    } else if (!closest || margin > closest.evidence.statistic - closest.evidence.threshold) {
      closest = f;
    }
  }
  if (closest) return { enough: true, finding: closest };
  const short = nearest ?? findings[0];
  return short ? { enough: false, finding: short } : null;
}

/** Evidence for "nothing to judge" when no check is enabled at all (a configuration corner). */
function dataGap(ledger: EvidenceLedger, config: GuardConfig): Evidence {
  const window = { fromMs: ledger.originMs, toMs: ledger.foldedThroughMs };
  return minSamplesEvidence(0, 0, config.minSamples, { canary: null, control: null }, window);
}

const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;

function describeProblem(e: Evidence): string {
  if (e.kind === 'source_unavailable')
    return `telemetry source unavailable for ${minutes(e.statistic)} (${e.detail})`;
  return `no new data for ${minutes(e.statistic)} (limit ${minutes(e.threshold)})`;
}

export function decide(state: GuardState, input: GuardInput, deps: GuardDeps): Evaluation {
  const { config } = deps;
  const now = deps.clock.now();
  const ledger = foldSettled(state.ledger, input.buckets, now, config.settleMs, config.msprt);
  const phase = state.phase;
  const make = (
    d: Omit<Decision, 'atMs' | 'phase' | 'findings'>,
    next: GuardPhase,
    findings: readonly Finding[],
    nextLedger = ledger,
  ): Evaluation => ({
    decision: { ...d, atMs: now, phase: next.kind, findings },
    state: { ledger: nextLedger, phase: next },
  });

  if (phase.kind === 'rolled_back') {
    return make(
      {
        verdict: 'rollback',
        signal: phase.trigger.signal,
        evidence: phase.evidence,
        reason: `rolled back at ${new Date(phase.atMs).toISOString()} on ${signalLabel(phase.trigger.signal)}; a person must retry`,
      },
      phase,
      [],
    );
  }

  const problem = dataProblem(ledger, input.source, now, config);
  const findings = runChecks(ledger, input.latency, config);

  if (phase.kind === 'holding') {
    const held = `${phase.action === 'pause' ? 'paused' : 'escalated'} on ${signalLabel(phase.trigger.signal)} (${phase.trigger.check})`;
    if (problem) {
      return make(
        {
          verdict: phase.action,
          signal: null,
          evidence: problem,
          reason: `${held}; cannot judge recovery: ${describeProblem(problem)}`,
        },
        { ...phase, clearing: null },
        findings,
      );
    }
    const c = clearance(phase.trigger, ledger, phase.snapshot, input.latency, config);
    const others = findings.filter(
      (f) =>
        f.status === 'regressed' && !(f.check === phase.trigger.check && f.signal === phase.trigger.signal),
    );
    const other = mostSevere(others);
    if (c.status === 'cleared' && !other) {
      const clearing = extendStreak(phase.clearing, now);
      if (streakMet(clearing, config.recovery, now)) {
        // Start a fresh ledger: the evidence from before the hold describes the regression, not the
        // recovered canary, and would trip the guard again at once. A regression after this needs
        // new evidence (a new sequential test at the same alpha).
        return make(
          {
            verdict: 'continue',
            signal: phase.trigger.signal,
            evidence: c.evidence,
            reason: `recovered: ${c.reason}, ${clearing.evaluations} evaluations over ${minutes(now - clearing.sinceMs)}`,
          },
          { kind: 'watching' },
          findings,
          openLedger(ledger.foldedThroughMs),
        );
      }
      return make(
        {
          verdict: phase.action,
          signal: phase.trigger.signal,
          evidence: c.evidence,
          reason: `${held}; clearing (${clearing.evaluations}/${config.recovery.evaluations}): ${c.reason}`,
        },
        { ...phase, clearing },
        findings,
      );
    }
    const blocking = other ?? null;
    return make(
      {
        verdict: phase.action,
        signal: blocking ? blocking.signal : phase.trigger.signal,
        evidence: blocking ? blocking.evidence : c.evidence,
        reason: `${held}; ${blocking ? `also regressed: ${blocking.reason}` : c.reason}`,
      },
      { ...phase, clearing: null },
      findings,
    );
  }

  if (problem) {
    return make(
      { verdict: 'inconclusive', signal: null, evidence: problem, reason: describeProblem(problem) },
      { kind: 'watching' },
      findings,
    );
  }

  const top = mostSevere(findings);
  if (top) {
    const trigger = { check: top.check, signal: top.signal };
    const streak = extendStreak(phase.kind === 'confirming' ? phase.streak : null, now);
    if (!streakMet(streak, config.persistence, now)) {
      return make(
        {
          verdict: 'inconclusive',
          signal: top.signal,
          evidence: top.evidence,
          reason: `${top.reason}; confirming (${streak.evaluations}/${config.persistence.evaluations})`,
        },
        { kind: 'confirming', trigger, streak },
        findings,
      );
    }
    const persisted = `persisted ${streak.evaluations} evaluations over ${minutes(now - streak.sinceMs)}`;
    if (input.policy === 'rollback') {
      return make(
        {
          verdict: 'rollback',
          signal: top.signal,
          evidence: top.evidence,
          reason: `${top.reason}; ${persisted}`,
        },
        { kind: 'rolled_back', trigger, atMs: now, evidence: top.evidence },
        findings,
      );
    }
    return make(
      {
        verdict: input.policy,
        signal: top.signal,
        evidence: top.evidence,
        reason: `${top.reason}; ${persisted}`,
      },
      {
        kind: 'holding',
        action: input.policy,
        trigger,
        sinceMs: now,
        evidence: top.evidence,
        snapshot: snapshotLedger(ledger),
        clearing: null,
      },
      findings,
    );
  }

  const resting = restingOn(findings, config);
  if (!resting?.enough) {
    return make(
      {
        verdict: 'inconclusive',
        signal: resting?.finding.signal ?? null,
        evidence: resting?.finding.evidence ?? dataGap(ledger, config),
        reason: `not enough data: ${resting?.finding.reason ?? 'no checks are enabled'}`,
      },
      { kind: 'watching' },
      findings,
    );
  }
  const lead = resting.finding;
  return make(
    { verdict: 'continue', signal: lead.signal, evidence: lead.evidence, reason: lead.reason },
    { kind: 'watching' },
    findings,
  );
}
