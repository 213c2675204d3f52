import { describe, expect, it } from 'vitest';
import type { Assertion } from './bets-types.js';
import type { AttemptResult, RunRecord } from './run-types.js';
import { caseOutcome, combineVerdict, ruleHolds, summarize } from './verdict.js';

const TOOL: Assertion = { kind: 'tool_call' };
const FORMAT: Assertion = { kind: 'format', check: 'contains', value: 'x' };

function attempt(
  caseId: string,
  target: 'candidate' | 'stable',
  i: number,
  kinds: AttemptResult['kinds'],
  status?: AttemptResult['status'],
): AttemptResult {
  const ok = Object.values(kinds).every(Boolean);
  return {
    runId: 'r',
    caseId,
    target,
    attempt: i,
    status: status ?? (ok ? 'pass' : 'fail'),
    kinds,
    assertions: [],
    answer: null,
    error: null,
    inputTokens: 1,
    outputTokens: 1,
    cost: null,
    latencyMs: 1,
    providerCalls: 1,
    createdAt: '',
  };
}

describe('pass rules', () => {
  it('majority needs more than half; all needs every attempt', () => {
    expect([
      ruleHolds('majority', 2, 3),
      ruleHolds('majority', 1, 2),
      ruleHolds('all', 2, 3),
      ruleHolds('all', 3, 3),
      ruleHolds('all', 0, 0),
    ]).toEqual([true, false, false, true, false]);
  });
});

describe('case outcomes and the summary', () => {
  const thresholds = { toolCall: 0.95, format: 0.5, semantic: 0.9 };

  it('counts per assertion kind, excusing kinds that fail on the stable version too', () => {
    const cases = [
      { id: 'a', assertions: [TOOL, FORMAT] },
      { id: 'b', assertions: [TOOL] },
      { id: 'c', assertions: [TOOL, FORMAT] },
    ];
    const results = [
      ...[0, 1, 2].map((i) => attempt('a', 'candidate', i, { tool_call: true, format: i < 2 })),
      ...[0, 1, 2].map((i) => attempt('b', 'candidate', i, { tool_call: i === 0 })),
      ...[0, 1, 2].map((i) => attempt('b', 'stable', i, { tool_call: false })),
      ...[0, 1, 2].map((i) => attempt('c', 'candidate', i, { tool_call: true, format: false })),
      ...[0, 1, 2].map((i) => attempt('c', 'stable', i, { tool_call: true, format: true })),
    ];
    const outcomes = cases.map((c) =>
      caseOutcome(
        c,
        results.filter((r) => r.caseId === c.id),
        'majority',
      ),
    );
    expect(outcomes.map((o) => [o.caseId, o.status, o.unstableKinds])).toEqual([
      ['a', 'pass', []],
      ['b', 'unstable_baseline', ['tool_call']],
      ['c', 'fail', []],
    ]);
    const s = summarize(outcomes, results, thresholds, null);
    expect(s.kinds).toEqual([
      { kind: 'tool_call', passed: 2, total: 2, rate: 1, threshold: 0.95, ok: true },
      { kind: 'format', passed: 1, total: 2, rate: 0.5, threshold: 0.5, ok: true },
    ]);
    expect(s).toMatchObject({
      outcome: 'pass',
      cases: { passed: 1, failed: 1, unstableBaseline: 1 },
      usage: { providerCalls: 15, cost: null },
    });
    expect(
      summarize(
        [outcomes[0], outcomes[2]].filter((o) => o !== undefined),
        results,
        { ...thresholds, format: 0.6 },
        null,
      ).outcome,
    ).toBe('fail');
  });

  it('is inconclusive when stopped, when cases did not run, or when nothing could be counted', () => {
    const only = [{ id: 'b', assertions: [TOOL] }];
    const results = [
      attempt('b', 'candidate', 0, { tool_call: false }),
      attempt('b', 'stable', 0, { tool_call: false }),
    ];
    const outcomes = only.map((c) => caseOutcome(c, results, 'all'));
    const s = summarize(outcomes, results, thresholds, null);
    expect(s.outcome).toBe('error');
    expect(s.notes).toEqual(['no tool_call case could be counted: they all fail on the stable version too']);
    expect(
      summarize([caseOutcome({ id: 'z', assertions: [TOOL] }, [], 'all')], [], thresholds, null),
    ).toMatchObject({ outcome: 'error', cases: { errors: 1 } });
    expect(summarize([], [], thresholds, 'stopped').outcome).toBe('error');
  });

  it('an errored stable attempt excuses nothing; an errored candidate case is an error', () => {
    const results = [
      attempt('e', 'candidate', 0, { tool_call: false }, 'error'),
      attempt('e', 'stable', 0, { tool_call: false }, 'error'),
    ];
    const o = caseOutcome({ id: 'e', assertions: [TOOL] }, results, 'all');
    expect([o.status, o.unstableKinds]).toEqual(['error', []]);
  });
});

describe('tenant verdicts', () => {
  const run = (id: string, suiteId: string, outcome: 'pass' | 'fail' | 'error', rate: number): RunRecord =>
    ({
      id,
      suiteId,
      workflow: suiteId.split(':')[1],
      error: null,
      summary: {
        outcome,
        kinds: [{ kind: 'tool_call', passed: rate * 10, total: 10, rate, threshold: 0.95, ok: rate >= 0.95 }],
        cases: { total: 10, passed: 0, failed: 0, errors: 0, unstableBaseline: 0 },
        usage: { inputTokens: 0, outputTokens: 0, cost: null, providerCalls: 0 },
        stopped: outcome === 'error' ? 'provider down' : null,
        notes: [],
      },
    }) as unknown as RunRecord;
  const key = { tenantId: 't', channel: 'c', candidateVersionId: 'v', upgradeId: 'u' };

  it('passes only when every suite of the tenant passed; a suite without a run keeps it pending', () => {
    expect(
      combineVerdict(key, ['t:a', 't:b'], [run('r1', 't:a', 'pass', 1), run('r2', 't:b', 'pass', 1)], 'now'),
    ).toMatchObject({
      outcome: 'pass',
      kinds: [{ kind: 'tool_call', passed: 20, total: 20, rate: 1 }],
    });
    expect(combineVerdict(key, ['t:a', 't:b'], [run('r1', 't:a', 'pass', 1)], 'now')).toMatchObject({
      outcome: 'pending',
      reasons: ['suite t:b has no finished run for this candidate'],
    });
    const failed = combineVerdict(
      key,
      ['t:a', 't:b'],
      [run('r1', 't:a', 'pass', 1), run('r2', 't:b', 'fail', 0.8)],
      'now',
    );
    expect(failed).toMatchObject({
      outcome: 'fail',
      reasons: ['b: tool_call pass rate 80.0% is below 95.0%'],
    });
    expect(combineVerdict(key, ['t:a'], [run('r1', 't:a', 'error', 1)], 'now')).toMatchObject({
      outcome: 'error',
      reasons: ['run r1 (a) is inconclusive: provider down'],
    });
  });
});
