import { type Static, Type } from '@sinclair/typebox';
import { type AssertionKind, BaselineMode, PassRule } from './bets-types.js';

/** Runs of a suite, their per-attempt results and the gate verdicts they lead to. */

export type Target = 'candidate' | 'stable';
export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled';

export const RunOptions = Type.Object(
  {
    k: Type.Integer({ minimum: 1, maximum: 10 }),
    passRule: PassRule,
    baseline: BaselineMode,
    /** Provider calls of this run in flight at once. */
    concurrency: Type.Integer({ minimum: 1, maximum: 256 }),
    caseTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000 }),
    maxTokens: Type.Integer({ minimum: 1, maximum: 200_000 }),
    stopOnCaseError: Type.Boolean(),
    maxConsecutiveErrors: Type.Integer({ minimum: 1, maximum: 10_000 }),
  },
  { additionalProperties: false },
);
export type RunOptions = Static<typeof RunOptions>;

export interface RunRecord {
  id: string;
  tenantId: string;
  suiteId: string;
  workflow: string;
  suiteVersion: number;
  channel: string;
  candidateVersionId: string;
  stableVersionId: string;
  judgeVersionId: string | null;
  upgradeId: string | null;
  fleetRunId: string | null;
  status: RunStatus;
  options: RunOptions;
  caseCount: number;
  /** The process executing it, while it runs; a stale heartbeat lets another resume it. */
  runner: string | null;
  heartbeatAt: string | null;
  error: string | null;
  summary: RunSummary | null;
  createdBy: string;
  createdAt: string;
  finishedAt: string | null;
}

/** What a model answered, reduced to what assertions look at. */
export interface Answer {
  text: string | null;
  toolCalls: { name: string; arguments: unknown; raw: string }[];
}

export interface AssertionOutcome {
  index: number;
  kind: AssertionKind;
  ok: boolean;
  /** Why it failed (or what passed), for the report. */
  message: string;
  score?: number;
  /** The check could not be made (the judge's answer did not parse...): not the candidate's fault alone. */
  error?: boolean;
}

export type AttemptStatus = 'pass' | 'fail' | 'error';

/** One execution of one case on one model version: the unit that is persisted and resumed. */
export interface AttemptResult {
  runId: string;
  caseId: string;
  target: Target;
  attempt: number;
  status: AttemptStatus;
  /** Per assertion kind present in the case: whether all its assertions of that kind passed. */
  kinds: Partial<Record<AssertionKind, boolean>>;
  assertions: AssertionOutcome[];
  answer: Answer | null;
  error: string | null;
  inputTokens: number;
  outputTokens: number;
  /** Null when no price is known for the model version. */
  cost: number | null;
  latencyMs: number;
  /** Provider calls made (retries and judge calls included). */
  providerCalls: number;
  createdAt: string;
}

export interface KindRate {
  kind: AssertionKind;
  passed: number;
  /** Cases counted: those with this kind, less unstable baselines. */
  total: number;
  rate: number | null;
  threshold: number;
  ok: boolean;
}

export type VerdictOutcome = 'pass' | 'fail' | 'error';

export interface RunSummary {
  outcome: VerdictOutcome;
  kinds: KindRate[];
  cases: { total: number; passed: number; failed: number; errors: number; unstableBaseline: number };
  usage: { inputTokens: number; outputTokens: number; cost: number | null; providerCalls: number };
  /** Why the run ended before every case ran, when it did. */
  stopped: string | null;
  /** Why the outcome is what it is beyond the rates (e.g. nothing could be counted). */
  notes: string[];
}

/** A tenant's gate decision for one candidate of one channel (and upgrade). */
export interface TenantVerdict {
  tenantId: string;
  channel: string;
  candidateVersionId: string;
  /** '' when the run belonged to no upgrade. */
  upgradeId: string;
  /** pending: some suite of this tenant on the channel has no finished run yet. */
  outcome: VerdictOutcome | 'pending';
  kinds: KindRate[];
  runIds: string[];
  reasons: string[];
  decidedAt: string;
}

export interface RunProgress {
  caseCount: number;
  k: number;
  candidateDone: number;
  candidateTotal: number;
  stableDone: number;
  passed: number;
  failed: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cost: number | null;
}

export interface Alert {
  id: string;
  at: string;
  tenantId: string | null;
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  subject: string;
  detail: Record<string, unknown>;
}

/**
 * Where gate alerts go once recorded. Every alert is stored (`bets_alerts`) in the transaction
 * that records the verdict, whether or not a port is wired; the port is for pushing them out.
 */
export interface AlertPort {
  notify(alert: Alert): void | Promise<void>;
}
