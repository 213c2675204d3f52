import type { Assertion, GoldenAnswer, SuiteCase } from '../bets-types.js';
import type {
  Answer,
  AttemptResult,
  AttemptStatus,
  RunProgress,
  RunRecord,
  RunSummary,
} from '../run-types.js';
import { canonicalJson } from '../text-checks.js';
import { type CaseOutcome, caseOutcome, summarize, type Thresholds } from '../verdict.js';

/**
 * The report of a run: the verdict, then every case that did not pass, expected against got.
 * One model, rendered as JSON, Markdown (people) and JUnit XML (CI systems).
 */

export interface ReportSide {
  /** Statuses of the attempts, in order. */
  attempts: AttemptStatus[];
  /** The answer of the first attempt that did not pass (else the first). */
  answer: Answer | null;
  /** Why it failed: the failing assertions' messages, or the error. */
  problems: string[];
}

export interface ReportCase {
  caseId: string;
  description: string | null;
  status: CaseOutcome['status'];
  unstableKinds: string[];
  expected: { golden: GoldenAnswer | null; assertions: string[] };
  got: ReportSide;
  stable: ReportSide | null;
}

export interface RunReport {
  run: Pick<
    RunRecord,
    | 'id'
    | 'tenantId'
    | 'workflow'
    | 'suiteVersion'
    | 'channel'
    | 'candidateVersionId'
    | 'stableVersionId'
    | 'judgeVersionId'
    | 'upgradeId'
    | 'status'
    | 'createdAt'
    | 'finishedAt'
    | 'error'
  >;
  options: RunRecord['options'];
  summary: RunSummary;
  progress: RunProgress | null;
  /** Cases that did not pass, failures first, then errors, then unstable baselines. */
  cases: ReportCase[];
  /** Ids of the cases that passed (listed in JUnit, so a CI counts them). */
  passedCaseIds: string[];
}

export function describeAssertion(a: Assertion): string {
  switch (a.kind) {
    case 'tool_call': {
      const parts = [
        `tool_call: call ${a.tool ? `'${a.tool}'` : 'an offered tool'} with arguments valid for its schema`,
      ];
      if (a.argumentsSchema) parts.push(`satisfying ${canonicalJson(a.argumentsSchema)}`);
      if (a.acceptedValues) parts.push(`with accepted values ${canonicalJson(a.acceptedValues)}`);
      return parts.join(', ');
    }
    case 'format': {
      const not = 'negate' in a && a.negate ? 'not ' : '';
      if (a.check === 'regex') return `format: ${not}match /${a.pattern}/${a.flags ?? ''}`;
      if (a.check === 'json')
        return `format: ${a.extract === 'whole' ? 'be' : 'contain'} JSON${a.schema ? ` satisfying ${canonicalJson(a.schema)}` : ''}`;
      return `format: ${not}${a.check} ${JSON.stringify(a.value)}${a.ignoreCase ? ' (ignoring case)' : ''}`;
    }
    case 'semantic':
      return `semantic: equivalent to the golden answer${a.golden ? ` ${JSON.stringify(a.golden)}` : ''}${a.rubric ? ` by the rubric ${JSON.stringify(a.rubric)}` : ''} (score >= ${a.passScore})`;
  }
}

function side(attempts: AttemptResult[]): ReportSide {
  const bad = attempts.find((a) => a.status !== 'pass') ?? attempts[0];
  const problems = bad
    ? bad.status === 'error' && bad.assertions.length === 0
      ? [bad.error ?? 'error']
      : bad.assertions.filter((o) => !o.ok).map((o) => `${o.kind}: ${o.message}`)
    : [];
  return { attempts: attempts.map((a) => a.status), answer: bad?.answer ?? null, problems };
}

const ORDER: Record<CaseOutcome['status'], number> = {
  fail: 0,
  error: 1,
  not_run: 2,
  unstable_baseline: 3,
  pass: 4,
};

export function buildReport(
  run: RunRecord,
  cases: SuiteCase[],
  results: AttemptResult[],
  thresholds: Thresholds,
  progress: RunProgress | null,
): RunReport {
  const byCase = new Map<string, AttemptResult[]>();
  for (const r of results) byCase.set(r.caseId, [...(byCase.get(r.caseId) ?? []), r]);
  const outcomes = cases.map((c) => caseOutcome(c, byCase.get(c.id) ?? [], run.options.passRule));
  const specs = new Map(cases.map((c) => [c.id, c]));
  // A finished run keeps the summary it was judged by; a running one gets a provisional summary.
  const summary =
    run.summary ??
    summarize(outcomes, results, thresholds, run.status === 'running' ? 'still running' : run.error);
  const reported = outcomes
    .filter((o) => o.status !== 'pass' && (o.status !== 'not_run' || run.status !== 'running'))
    .sort((a, b) => ORDER[a.status] - ORDER[b.status] || a.caseId.localeCompare(b.caseId));
  return {
    run: {
      id: run.id,
      tenantId: run.tenantId,
      workflow: run.workflow,
      suiteVersion: run.suiteVersion,
      channel: run.channel,
      candidateVersionId: run.candidateVersionId,
      stableVersionId: run.stableVersionId,
      judgeVersionId: run.judgeVersionId,
      upgradeId: run.upgradeId,
      status: run.status,
      createdAt: run.createdAt,
      finishedAt: run.finishedAt,
      error: run.error,
    },
    options: run.options,
    summary,
    progress,
    passedCaseIds: outcomes.filter((o) => o.status === 'pass').map((o) => o.caseId),
    cases: reported.map((o) => {
      const spec = specs.get(o.caseId) as SuiteCase;
      return {
        caseId: o.caseId,
        description: spec.description ?? null,
        status: o.status,
        unstableKinds: o.unstableKinds,
        expected: { golden: spec.golden ?? null, assertions: spec.assertions.map(describeAssertion) },
        got: side(o.candidate.attempts),
        stable: o.stable ? side(o.stable.attempts) : null,
      };
    }),
  };
}

/** An answer in one line of text: its text, and each tool call as name(arguments). */
export function answerLine(answer: Answer | null): string {
  if (!answer) return '(no answer)';
  const parts = answer.toolCalls.map(
    (c) => `${c.name}(${c.arguments === undefined ? c.raw : canonicalJson(c.arguments)})`,
  );
  if (answer.text !== null && answer.text !== '') parts.push(JSON.stringify(answer.text));
  return parts.length > 0 ? parts.join(' + ') : '(empty answer)';
}

export function goldenLine(golden: GoldenAnswer | null): string {
  if (!golden) return '(none recorded)';
  const parts: string[] = [];
  if (golden.toolCall) parts.push(`${golden.toolCall.name}(${canonicalJson(golden.toolCall.arguments)})`);
  if (golden.text !== undefined) parts.push(JSON.stringify(golden.text));
  return parts.join(' + ') || '(none recorded)';
}
