import type { RolloutPlan } from '../registry/types.js';
import { ASSERTION_KINDS, type AssertionKind, type PassRule, type SuiteCase } from './bets-types.js';
import { addCost } from './pricing.js';
import type { AttemptResult, KindRate, RunRecord, RunSummary, Target, TenantVerdict } from './run-types.js';

/**
 * From per-attempt results to a gate verdict. Pure functions: the same results always give the
 * same verdict, whichever process computes it and however often.
 */

export type Thresholds = RolloutPlan['betsThresholds'];
export const DEFAULT_THRESHOLDS: Thresholds = { toolCall: 0.95, format: 0.95, semantic: 0.9 };

export function thresholdFor(kind: AssertionKind, t: Thresholds): number {
  return kind === 'tool_call' ? t.toolCall : kind === 'format' ? t.format : t.semantic;
}

/** Whether `passes` of `total` attempts satisfy the pass rule (no attempts: no). */
export function ruleHolds(rule: PassRule, passes: number, total: number): boolean {
  if (total === 0) return false;
  return rule === 'all' ? passes === total : passes * 2 > total;
}

/** What a verdict needs of an attempt; the executor keeps only this much of each in memory. */
export type AttemptLike = Pick<AttemptResult, 'target' | 'attempt' | 'status' | 'kinds'>;

export interface TargetOutcome<T extends AttemptLike = AttemptResult> {
  attempts: T[];
  /** Per kind of the case: whether the pass rule holds over the attempts. */
  byKind: Partial<Record<AssertionKind, boolean>>;
  passed: boolean;
  /** Some attempt errored (provider or judge) and the case did not pass. */
  error: boolean;
}

export interface CaseOutcome<T extends AttemptLike = AttemptResult> {
  caseId: string;
  kinds: AssertionKind[];
  candidate: TargetOutcome<T>;
  stable: TargetOutcome<T> | null;
  /** Kinds the case fails on the candidate and on the stable version too: not held against the candidate. */
  unstableKinds: AssertionKind[];
  status: 'pass' | 'fail' | 'error' | 'unstable_baseline' | 'not_run';
}

export function kindsOf(c: Pick<SuiteCase, 'assertions'>): AssertionKind[] {
  const present = new Set(c.assertions.map((a) => a.kind));
  return ASSERTION_KINDS.filter((k) => present.has(k));
}

export function targetOutcome<T extends AttemptLike>(
  attempts: T[],
  kinds: AssertionKind[],
  rule: PassRule,
): TargetOutcome<T> {
  const byKind: Partial<Record<AssertionKind, boolean>> = {};
  for (const kind of kinds) {
    byKind[kind] = ruleHolds(rule, attempts.filter((a) => a.kinds[kind] === true).length, attempts.length);
  }
  const passed = attempts.length > 0 && kinds.every((k) => byKind[k]);
  return { attempts, byKind, passed, error: !passed && attempts.some((a) => a.status === 'error') };
}

export function caseOutcome<T extends AttemptLike>(
  c: Pick<SuiteCase, 'id' | 'assertions'>,
  results: T[],
  rule: PassRule,
): CaseOutcome<T> {
  const kinds = kindsOf(c);
  const of = (t: Target) => results.filter((r) => r.target === t).sort((x, y) => x.attempt - y.attempt);
  const candidate = targetOutcome(of('candidate'), kinds, rule);
  const stableAttempts = of('stable');
  const stable = stableAttempts.length > 0 ? targetOutcome(stableAttempts, kinds, rule) : null;
  const failing = kinds.filter((k) => !candidate.byKind[k]);
  // An errored stable attempt proves nothing about the baseline: only real failures excuse.
  const unstableKinds =
    stable && !stable.error ? failing.filter((k) => candidate.attempts.length > 0 && !stable.byKind[k]) : [];
  let status: CaseOutcome<T>['status'];
  if (candidate.attempts.length === 0) status = 'not_run';
  else if (candidate.passed) status = 'pass';
  else if (candidate.error) status = 'error';
  else if (failing.length > 0 && unstableKinds.length === failing.length) status = 'unstable_baseline';
  else status = 'fail';
  return { caseId: c.id, kinds, candidate, stable, unstableKinds, status };
}

export function kindRates(outcomes: CaseOutcome<AttemptLike>[], thresholds: Thresholds): KindRate[] {
  const rates: KindRate[] = [];
  for (const kind of ASSERTION_KINDS) {
    const counted = outcomes.filter((o) => o.kinds.includes(kind) && !o.unstableKinds.includes(kind));
    if (!outcomes.some((o) => o.kinds.includes(kind))) continue;
    const passed = counted.filter((o) => o.candidate.byKind[kind] === true).length;
    const threshold = thresholdFor(kind, thresholds);
    const rate = counted.length === 0 ? null : passed / counted.length;
    // Every case of this kind was excused by its baseline: nothing counts against the candidate.
    rates.push({
      kind,
      passed,
      total: counted.length,
      rate,
      threshold,
      ok: rate === null || rate >= threshold,
    });
  }
  return rates;
}

export function summarize(
  outcomes: CaseOutcome<AttemptLike>[],
  results: AttemptResult[],
  thresholds: Thresholds,
  stopped: string | null,
): RunSummary {
  const kinds = kindRates(outcomes, thresholds);
  let cost: number | null = null;
  let inputTokens = 0;
  let outputTokens = 0;
  let providerCalls = 0;
  for (const r of results) {
    inputTokens += r.inputTokens;
    outputTokens += r.outputTokens;
    providerCalls += r.providerCalls;
    cost = addCost(cost, r.cost);
  }
  const count = (s: CaseOutcome<AttemptLike>['status']) => outcomes.filter((o) => o.status === s).length;
  const notes: string[] = [];
  // A kind whose every case fails on the stable version too says nothing about the candidate:
  // the gate must not pass on no evidence.
  const uncounted = kinds.filter((k) => k.total === 0).map((k) => k.kind);
  if (uncounted.length > 0) {
    notes.push(`no ${uncounted.join(', ')} case could be counted: they all fail on the stable version too`);
  }
  if (count('not_run') > 0) notes.push(`${count('not_run')} case(s) did not run`);
  const incomplete = stopped !== null || count('not_run') > 0 || uncounted.length > 0;
  return {
    outcome: incomplete ? 'error' : kinds.every((k) => k.ok) ? 'pass' : 'fail',
    kinds,
    cases: {
      total: outcomes.length,
      passed: count('pass'),
      failed: count('fail'),
      errors: count('error') + count('not_run'),
      unstableBaseline: count('unstable_baseline'),
    },
    usage: { inputTokens, outputTokens, cost, providerCalls },
    stopped,
    notes,
  };
}

/**
 * A tenant's verdict for a candidate from the latest finished run of each of its suites on the
 * channel: it passes only when every suite passed; a suite without a run keeps it pending.
 */
export function combineVerdict(
  key: Pick<TenantVerdict, 'tenantId' | 'channel' | 'candidateVersionId' | 'upgradeId'>,
  suiteIds: string[],
  runs: RunRecord[],
  at: string,
): TenantVerdict {
  const bySuite = new Map(runs.map((r) => [r.suiteId, r]));
  const reasons: string[] = [];
  const missing = suiteIds.filter((s) => !bySuite.has(s));
  for (const s of missing) reasons.push(`suite ${s} has no finished run for this candidate`);
  const merged = new Map<AssertionKind, KindRate>();
  let outcome: TenantVerdict['outcome'] = 'pass';
  for (const run of runs) {
    const summary = run.summary;
    if (!summary) continue;
    if (summary.outcome === 'error') {
      outcome = 'error';
      const why = summary.stopped ?? run.error ?? summary.notes.join('; ');
      reasons.push(`run ${run.id} (${run.workflow}) is inconclusive: ${why}`);
    } else if (summary.outcome === 'fail' && outcome !== 'error') outcome = 'fail';
    for (const k of summary.kinds) {
      if (!k.ok) {
        reasons.push(
          `${run.workflow}: ${k.kind} pass rate ${((k.rate ?? 0) * 100).toFixed(1)}% is below ${(k.threshold * 100).toFixed(1)}%`,
        );
      }
      const m = merged.get(k.kind) ?? { ...k, passed: 0, total: 0 };
      m.passed += k.passed;
      m.total += k.total;
      m.rate = m.total === 0 ? null : m.passed / m.total;
      m.ok = m.ok && k.ok;
      merged.set(k.kind, m);
    }
  }
  if (missing.length > 0 && outcome === 'pass') outcome = 'pending';
  return {
    ...key,
    outcome,
    kinds: [...merged.values()],
    runIds: runs.map((r) => r.id),
    reasons,
    decidedAt: at,
  };
}
