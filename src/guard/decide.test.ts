import { describe, expect, it } from 'vitest';
import type { ActionPolicy } from '../registry/types.js';
import { ManualClock } from '../shared/clock.js';
import { type GuardConfigOverrides, guardConfig } from './config.js';
import { type Decision, decide, type GuardInput, type GuardState, openGuard } from './decide.js';
import { type CohortSpec, MINUTE, minuteBucket, scores } from './fixtures.js';
import type { LatencyWindow, MomentSums, RollupBucket } from './signals.js';

interface Minute {
  canary: CohortSpec;
  control: CohortSpec;
  judge?: MomentSums;
  latency?: LatencyWindow;
}

/** Evaluates once per minute, at each minute's end; returns every decision. */
function soak(
  minutes: readonly Minute[],
  opts: { policy?: ActionPolicy; config?: GuardConfigOverrides; state?: GuardState } = {},
): { decisions: Decision[]; state: GuardState } {
  const config = guardConfig({ settleMs: 0, ...opts.config });
  const clock = new ManualClock(0);
  let state = opts.state ?? openGuard(0);
  const decisions: Decision[] = [];
  for (const [i, m] of minutes.entries()) {
    const bucket = minuteBucket(i, m.canary, m.control, m.judge);
    clock.set(bucket.endMs);
    const input: GuardInput = {
      buckets: [bucket],
      source: { kind: 'available' },
      policy: opts.policy ?? 'rollback',
      ...(m.latency ? { latency: m.latency } : {}),
    };
    const ev = decide(state, input, { clock, config });
    state = ev.state;
    decisions.push(ev.decision);
  }
  return { decisions, state };
}

const repeat = (n: number, m: Minute): Minute[] => Array.from({ length: n }, () => m);
const tools = (trials: number, events: number): CohortSpec => ({ toolCalls: { trials, events } });
const verdicts = (ds: readonly Decision[]) => ds.map((d) => d.verdict);

describe('decide: minimum samples', () => {
  it("does not act on a small tenant's single error", () => {
    // Given a tenant with one canary request a minute, whose very first canary tool call fails,
    const minutes = [
      { canary: tools(1, 1), control: tools(19, 0) },
      ...repeat(40, { canary: tools(1, 0), control: tools(19, 0) }),
    ];
    // when the guard watches for 41 minutes,
    const { decisions } = soak(minutes);
    // then it never acts, and says why: not enough canary trials.
    expect(new Set(verdicts(decisions))).toEqual(new Set(['inconclusive']));
    const last = decisions.at(-1);
    expect(last?.evidence.kind).toBe('min_samples');
    expect(last?.evidence).toMatchObject({
      counts: { canary: 41, control: 779 },
      required: { canary: 100, control: 100 },
    });
    expect(last?.reason).toMatch(/not enough data/);
  });

  it('does not act before the minimum even on an extreme canary', () => {
    const { decisions } = soak(repeat(4, { canary: tools(20, 10), control: tools(380, 4) }));
    expect(verdicts(decisions)).toEqual(['inconclusive', 'inconclusive', 'inconclusive', 'inconclusive']);
  });
});

describe('decide: regressions and policies', () => {
  const regression = [...repeat(30, { canary: tools(20, 2), control: tools(380, 4) })];

  it('rolls back a clear regression after it persisted, with the evidence', () => {
    const { decisions } = soak(regression, { policy: 'rollback' });
    const first = decisions.findIndex((d) => d.verdict === 'rollback');
    expect(first).toBeGreaterThan(0);
    // The evaluation before acting saw the regression and was confirming it.
    expect(decisions[first - 1]?.verdict).toBe('inconclusive');
    expect(decisions[first - 1]?.phase).toBe('confirming');
    expect(decisions[first - 1]?.reason).toMatch(/confirming \(1\/2\)/);
    const d = decisions[first];
    expect(d?.signal).toBe('tool_call_failure');
    expect(d?.phase).toBe('rolled_back');
    const e = d?.evidence;
    if (e?.kind !== 'rate_comparison') throw new Error(`unexpected evidence ${e?.kind}`);
    expect(e.method).toBe('conditional-msprt');
    expect(e.statistic).toBeGreaterThanOrEqual(e.threshold);
    expect(e.threshold).toBeCloseTo(Math.log(1 / e.alpha), 12);
    expect(e.alpha).toBeCloseTo(0.05 * (4 / 11), 12);
    expect(e.minEffect).toBe(0.005);
    expect(e.counts.canary.events).toBe(2 * (first + 1));
    expect(e.counts.control.trials).toBe(380 * (first + 1));
    expect(e.rates.canary).toBeCloseTo(0.1, 12);
    expect(e.rates.difference).toBeCloseTo(0.1 - 4 / 380, 12);
    expect(e.rates.differenceLower).toBeLessThan(e.rates.difference ?? 0);
    expect(e.window).toEqual({ fromMs: 0, toMs: (first + 1) * MINUTE });
    expect(e.alwaysValidP).toBeLessThanOrEqual(e.alpha);
    expect(d?.reason).toMatch(/canary is worse; persisted 2 evaluations over 1\.0 min/);
    // Every check's finding is reported alongside.
    expect(d?.findings.map((f) => `${f.check}:${f.signal}`)).toContain('cap:coercion');
  });

  it('maps the detected regression to the tenant action policy', () => {
    for (const policy of ['pause', 'escalate', 'rollback'] as const) {
      const { decisions } = soak(regression, { policy });
      expect(decisions.find((d) => d.verdict !== 'inconclusive')?.verdict).toBe(policy);
    }
  });

  it('stays rolled back whatever the data does afterwards (a person retries)', () => {
    const { state } = soak(regression, { policy: 'rollback' });
    const after = soak(repeat(10, { canary: tools(20, 0), control: tools(380, 4) }), { state });
    expect(new Set(verdicts(after.decisions))).toEqual(new Set(['rollback']));
    expect(after.decisions[0]?.reason).toMatch(/a person must retry/);
  });

  it('says continue on a healthy canary once there is enough data, never before', () => {
    const { decisions } = soak(repeat(30, { canary: tools(20, 0), control: tools(380, 4) }));
    expect(decisions[3]?.verdict).toBe('inconclusive');
    expect(decisions.at(-1)?.verdict).toBe('continue');
    expect(decisions.at(-1)?.evidence).toMatchObject({
      kind: 'rate_comparison',
      method: 'conditional-msprt',
    });
  });

  it('ignores a significant but trivial difference at large volume (minimum effect)', () => {
    // 1.3% vs 1.0% over 12 hours of a big tenant: significant, but under the 0.5 pp minimum.
    const { decisions } = soak(repeat(720, { canary: tools(3000, 39), control: tools(57_000, 570) }));
    expect(decisions.some((d) => d.verdict === 'rollback')).toBe(false);
    const last = decisions.at(-1)?.evidence;
    if (last?.kind !== 'rate_comparison') throw new Error('expected a comparison');
    expect(last.statistic).toBeGreaterThan(last.threshold);
    expect(decisions.at(-1)?.reason).toMatch(/minimum effect/);
  });
});

describe('decide: hard caps', () => {
  it('treats canary coercion above 2% as a regression even when the control coerces as much', () => {
    const same = { trials: 50, events: 3 };
    const { decisions } = soak(
      repeat(30, {
        canary: { toolCalls: { trials: 50, events: 0 }, coercions: same },
        control: { toolCalls: { trials: 950, events: 0 }, coercions: { trials: 950, events: 57 } },
      }),
      { policy: 'pause' },
    );
    const acted = decisions.find((d) => d.verdict === 'pause');
    expect(acted?.signal).toBe('coercion');
    expect(acted?.evidence).toMatchObject({ kind: 'rate_cap', method: 'beta-binomial-cs', threshold: 0.02 });
    expect(acted?.evidence.statistic).toBeGreaterThan(0.02);
  });

  it('does not fire the coercion cap at 1%', () => {
    const { decisions } = soak(
      repeat(60, {
        canary: { toolCalls: { trials: 100, events: 0 }, coercions: { trials: 100, events: 1 } },
        control: { toolCalls: { trials: 900, events: 0 }, coercions: { trials: 900, events: 9 } },
      }),
    );
    expect(decisions.at(-1)?.verdict).toBe('continue');
  });

  it('applies the configurable absolute failure-rate cap', () => {
    // Both cohorts fail 30% of tool calls (a provider incident would too): no difference, but
    // above the 20% cap configured here.
    const { decisions } = soak(repeat(20, { canary: tools(50, 15), control: tools(950, 285) }), {
      config: { caps: { tool_call_failure: 0.2 } },
    });
    const acted = decisions.find((d) => d.verdict === 'rollback');
    expect(acted?.signal).toBe('tool_call_failure');
    expect(acted?.evidence.kind).toBe('rate_cap');
  });
});

describe('decide: missing, stale and unavailable data', () => {
  it('is inconclusive when rollups stop arriving, never continue', () => {
    const config = guardConfig({ settleMs: 0 });
    const clock = new ManualClock(0);
    let state = openGuard(0);
    const healthy = Array.from({ length: 30 }, (_, i) => minuteBucket(i, tools(20, 0), tools(380, 4)));
    clock.set(30 * MINUTE);
    state = decide(
      state,
      { buckets: healthy, source: { kind: 'available' }, policy: 'rollback' },
      { clock, config },
    ).state;
    clock.set(50 * MINUTE);
    const stale = decide(
      state,
      { buckets: healthy, source: { kind: 'available' }, policy: 'rollback' },
      { clock, config },
    );
    expect(stale.decision.verdict).toBe('inconclusive');
    expect(stale.decision.signal).toBeNull();
    expect(stale.decision.evidence).toMatchObject({
      kind: 'stale',
      method: 'staleness',
      threshold: 15 * MINUTE,
    });
    // Silent since the last event of minute 29 (just before 30 min) until 50 min.
    expect(stale.decision.evidence.statistic).toBeGreaterThanOrEqual(20 * MINUTE);
    expect(stale.decision.evidence.statistic).toBeLessThan(21 * MINUTE);
  });

  it('is inconclusive when only the canary went silent', () => {
    const minutes = [
      ...repeat(30, { canary: tools(20, 0), control: tools(380, 4) }),
      ...repeat(20, { canary: {}, control: tools(380, 4) }),
    ];
    const { decisions } = soak(minutes);
    expect(decisions.at(-1)?.verdict).toBe('inconclusive');
    expect(decisions.at(-1)?.evidence.kind).toBe('stale');
  });

  it('is inconclusive when the telemetry source is unavailable, and has no data at all', () => {
    const config = guardConfig({ settleMs: 0 });
    const clock = new ManualClock(10 * MINUTE);
    const down = decide(
      openGuard(0),
      {
        buckets: [],
        source: { kind: 'unavailable', sinceMs: 4 * MINUTE, detail: 'postgres timeout' },
        policy: 'pause',
      },
      { clock, config },
    );
    expect(down.decision.verdict).toBe('inconclusive');
    expect(down.decision.evidence).toMatchObject({
      kind: 'source_unavailable',
      statistic: 6 * MINUTE,
      detail: 'postgres timeout',
    });
    const empty = decide(
      openGuard(0),
      { buckets: [], source: { kind: 'available' }, policy: 'pause' },
      { clock, config },
    );
    expect(empty.decision.verdict).toBe('inconclusive');
  });

  it('keeps a paused stage paused while it cannot see data', () => {
    const { state } = soak(repeat(12, { canary: tools(20, 2), control: tools(380, 4) }), { policy: 'pause' });
    expect(state.phase.kind).toBe('holding');
    const config = guardConfig({ settleMs: 0 });
    const clock = new ManualClock(60 * MINUTE);
    const d = decide(
      state,
      { buckets: [], source: { kind: 'unavailable', sinceMs: 30 * MINUTE, detail: 'down' }, policy: 'pause' },
      { clock, config },
    );
    expect(d.decision.verdict).toBe('pause');
    expect(d.decision.reason).toMatch(/cannot judge recovery/);
  });

  it('folds only settled periods, each exactly once, however often the series is handed over', () => {
    const config = guardConfig({ settleMs: 30_000 });
    const buckets: RollupBucket[] = Array.from({ length: 20 }, (_, i) =>
      minuteBucket(i, tools(20, 1), tools(380, 4)),
    );
    const clock = new ManualClock(20 * MINUTE);
    // The last minute ended right now: not settled yet.
    const once = decide(
      openGuard(0),
      { buckets, source: { kind: 'available' }, policy: 'rollback' },
      { clock, config },
    );
    expect(once.state.ledger.periods).toBe(19);
    const again = decide(
      once.state,
      { buckets, source: { kind: 'available' }, policy: 'rollback' },
      { clock, config },
    );
    expect(again.state.ledger.periods).toBe(19);
    expect(again.state.ledger.rates.tool_call_failure.canary).toEqual({ trials: 380, events: 19 });
    clock.set(20 * MINUTE + 30_000);
    const later = decide(
      again.state,
      { buckets, source: { kind: 'available' }, policy: 'rollback' },
      { clock, config },
    );
    expect(later.state.ledger.periods).toBe(20);
  });
});

describe('decide: hysteresis', () => {
  const slow: LatencyWindow = {
    fromMs: 0,
    toMs: 1,
    canary: { count: 500, p50Ms: 900, p99Ms: 4000 },
    control: { count: 9500, p50Ms: 800, p99Ms: 2000 },
  };
  const fine: LatencyWindow = { ...slow, canary: { count: 500, p50Ms: 800, p99Ms: 2100 } };
  const healthy = { canary: tools(20, 0), control: tools(380, 4) };

  it('does not act on a regression that comes and goes between evaluations', () => {
    // The latency window alternates between slow and fine every minute for an hour.
    const minutes = Array.from({ length: 60 }, (_, i) => ({
      ...healthy,
      latency: i % 2 === 0 ? slow : fine,
    }));
    const { decisions } = soak(minutes, { policy: 'pause' });
    expect(decisions.some((d) => d.phase === 'confirming')).toBe(true);
    expect(decisions.some((d) => d.verdict === 'pause')).toBe(false);
  });

  it('needs the persistence duration as well as the count of evaluations', () => {
    // Evaluations every 10 s see the same slow window: three of them in 20 s are not a minute.
    const config = guardConfig({ settleMs: 0, persistence: { evaluations: 2, minDurationMs: MINUTE } });
    const clock = new ManualClock(0);
    const buckets = Array.from({ length: 10 }, (_, i) => minuteBucket(i, tools(20, 0), tools(380, 4)));
    let state = openGuard(0);
    const seen: string[] = [];
    for (const t of [600_000, 610_000, 620_000, 660_000]) {
      clock.set(t);
      const ev = decide(
        state,
        { buckets, source: { kind: 'available' }, policy: 'pause', latency: slow },
        { clock, config },
      );
      state = ev.state;
      seen.push(ev.decision.verdict);
    }
    expect(seen).toEqual(['inconclusive', 'inconclusive', 'inconclusive', 'pause']);
  });

  it('does not flap on a signal sitting on the boundary of the minimum effect', () => {
    // Canary exactly minEffect worse (1.5% vs 1.0%) at high volume for 16 hours, policy pause.
    const { decisions } = soak(repeat(960, { canary: tools(2000, 30), control: tools(38_000, 380) }), {
      policy: 'pause',
    });
    const changes = decisions
      .filter((d, i) => i > 0 && d.verdict !== decisions[i - 1]?.verdict)
      .map((d) => d.verdict);
    // At most: inconclusive -> continue (enough data) -> inconclusive (confirming) -> pause, once.
    expect(changes.filter((v) => v === 'pause').length).toBeLessThanOrEqual(1);
    const firstPause = decisions.findIndex((d) => d.verdict === 'pause');
    if (firstPause >= 0) expect(new Set(verdicts(decisions.slice(firstPause)))).toEqual(new Set(['pause']));
  });

  it('resumes a paused stage only after the evidence cleared with margin, persistently', () => {
    // Given a pause on a 10% canary,
    const bad = soak(repeat(12, { canary: tools(20, 2), control: tools(380, 4) }), { policy: 'pause' });
    expect(bad.state.phase.kind).toBe('holding');
    // when the canary is healthy again (0 failures) for long enough,
    const good = soak(repeat(240, { canary: tools(200, 0), control: tools(3800, 38) }), {
      policy: 'pause',
      state: bad.state,
    });
    const resumed = good.decisions.findIndex((d) => d.verdict === 'continue');
    // then it holds while the bound clears, resumes once, after the recovery streak,
    // (5 clear evaluations and 10 minutes: the duration binds here.)
    expect(resumed).toBeGreaterThanOrEqual(10);
    expect(good.decisions.slice(0, resumed).every((d) => d.verdict === 'pause')).toBe(true);
    expect(good.decisions[resumed - 1]?.reason).toMatch(/clearing \(\d+\/5\)/);
    expect(good.decisions[resumed]?.reason).toMatch(/^recovered/);
    expect(good.decisions[resumed]?.evidence).toMatchObject({
      kind: 'rate_clearance',
      method: 'beta-binomial-cs',
      threshold: 0.005,
    });
    // and a fresh ledger starts there, so the old evidence cannot trip it again.
    expect(good.decisions.slice(resumed).every((d) => d.verdict !== 'pause')).toBe(true);
    expect(good.state.ledger.originMs).toBeGreaterThan(bad.state.ledger.originMs);
  });

  it('stays paused while the canary is still worse by the minimum effect', () => {
    const bad = soak(repeat(12, { canary: tools(20, 2), control: tools(380, 4) }), { policy: 'escalate' });
    const still = soak(repeat(240, { canary: tools(200, 3), control: tools(3800, 38) }), {
      policy: 'escalate',
      state: bad.state,
    });
    expect(new Set(verdicts(still.decisions))).toEqual(new Set(['escalate']));
  });
});

describe('decide: judge and latency', () => {
  it('flags judge similarity below the minimum with betting-CS evidence', () => {
    const { decisions } = soak(
      repeat(30, { canary: tools(20, 0), control: tools(380, 4), judge: scores(5, 0.6) }),
      { policy: 'pause' },
    );
    const acted = decisions.find((d) => d.verdict === 'pause');
    expect(acted?.signal).toBe('judge_similarity');
    expect(acted?.evidence).toMatchObject({ kind: 'bounded_mean', method: 'betting-cs', minimum: 0.8 });
    const e = acted?.evidence;
    if (e?.kind !== 'bounded_mean') throw new Error('expected judge evidence');
    expect(e.rates.upper).toBeLessThan(0.8);
  });

  it('flags a canary p99 far above the control after it persisted', () => {
    const latency: LatencyWindow = {
      fromMs: 0,
      toMs: 1,
      canary: { count: 500, p50Ms: 900, p99Ms: 4000 },
      control: { count: 9500, p50Ms: 800, p99Ms: 2000 },
    };
    const { decisions } = soak(repeat(30, { canary: tools(20, 0), control: tools(380, 4), latency }), {
      policy: 'pause',
    });
    const acted = decisions.find((d) => d.verdict === 'pause');
    expect(acted?.signal).toBe('latency');
    expect(acted?.evidence).toMatchObject({ kind: 'latency_ratio', statistic: 2, threshold: 1.5 });
  });

  it('waits for required signals before saying continue', () => {
    const { decisions } = soak(repeat(30, { canary: tools(20, 0), control: tools(380, 4) }), {
      config: { requiredSignals: ['task_failure'] },
    });
    expect(decisions.at(-1)?.verdict).toBe('inconclusive');
    expect(decisions.at(-1)?.signal).toBe('task_failure');
  });
});
