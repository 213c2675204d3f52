import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ActionPolicy } from '../registry/types.js';
import { ManualClock } from '../shared/clock.js';
import { guardConfig } from './config.js';
import { decide, openGuard, type Verdict } from './decide.js';
import { MINUTE, minuteBucket } from './fixtures.js';
import type { RollupBucket } from './signals.js';

// Small minimums so that short generated soaks reach decisions.
const CONFIG = guardConfig({ settleMs: 0, minSamples: { canary: 20, control: 20 } });

const SEVERITY: Readonly<Record<Verdict, number>> = {
  continue: 0,
  inconclusive: 1,
  pause: 2,
  escalate: 2,
  rollback: 2,
};

interface Row {
  n: number;
  x: number;
  m: number;
  y: number;
  cn: number;
  cx: number;
}

// Around the interesting region: canary failures of a few percent against a ~1% control.
const row = fc.record({
  n: fc.integer({ min: 0, max: 60 }),
  x: fc.integer({ min: 0, max: 4 }),
  m: fc.integer({ min: 0, max: 600 }),
  y: fc.integer({ min: 0, max: 12 }),
  cn: fc.integer({ min: 0, max: 60 }),
  cx: fc.integer({ min: 0, max: 6 }),
});

function buckets(rows: readonly Row[]): RollupBucket[] {
  return rows.map((r, i) =>
    minuteBucket(
      i,
      {
        toolCalls: { trials: r.n, events: Math.min(r.x, r.n) },
        coercions: { trials: r.cn, events: Math.min(r.cx, r.cn) },
      },
      { toolCalls: { trials: r.m, events: Math.min(r.y, r.m) }, coercions: { trials: 10 * r.cn, events: 0 } },
    ),
  );
}

function verdicts(rows: readonly Row[], policy: ActionPolicy): Verdict[] {
  const clock = new ManualClock(0);
  let state = openGuard(0);
  const out: Verdict[] = [];
  for (const b of buckets(rows)) {
    clock.set(b.endMs);
    const ev = decide(
      state,
      { buckets: [b], source: { kind: 'available' }, policy },
      { clock, config: CONFIG },
    );
    state = ev.state;
    out.push(ev.decision.verdict);
  }
  return out;
}

/** The same soak with extra canary failures (tool calls and coercions) in some minutes. */
const worsened = fc
  .tuple(
    fc.array(row, { minLength: 3, maxLength: 40 }),
    fc.array(fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.nat({ max: 2 })), { maxLength: 20 }),
  )
  .map(([rows, extra]) => {
    const worse = rows.map((r) => ({ ...r, x: Math.min(r.x, r.n), cx: Math.min(r.cx, r.cn) }));
    for (const [at, dx, dc] of extra) {
      const r = worse[at % worse.length];
      if (!r) continue;
      r.x = Math.min(r.n, r.x + dx);
      r.cx = Math.min(r.cn, r.cx + dc);
    }
    return { rows, worse };
  });

describe('decide (properties)', () => {
  it('never gives a better verdict to a worse canary, at any evaluation, until it acts', () => {
    fc.assert(
      fc.property(
        worsened,
        fc.constantFrom<ActionPolicy>('rollback', 'pause', 'escalate'),
        ({ rows, worse }, policy) => {
          const a = verdicts(rows, policy);
          const b = verdicts(worse, policy);
          for (let i = 0; i < a.length; i++) {
            const va = a[i];
            const vb = b[i];
            if (!va || !vb) continue;
            expect(SEVERITY[vb]).toBeGreaterThanOrEqual(SEVERITY[va]);
            // After an action, a paused stage may recover on its own timetable: compare up to here.
            if (SEVERITY[vb] === 2 && policy !== 'rollback') break;
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('only ever answers the tenant policy, continue or inconclusive', () => {
    fc.assert(
      fc.property(
        fc.array(row, { minLength: 1, maxLength: 30 }),
        fc.constantFrom<ActionPolicy>('rollback', 'pause', 'escalate'),
        (rows, policy) => {
          for (const v of verdicts(rows, policy)) expect(['continue', 'inconclusive', policy]).toContain(v);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('never says continue when the source is down, and is deterministic', () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 30 }), (rows) => {
        const clock = new ManualClock(rows.length * MINUTE);
        const input = {
          buckets: buckets(rows),
          source: { kind: 'unavailable', sinceMs: 0, detail: 'x' },
          policy: 'pause',
        } as const;
        const first = decide(openGuard(0), input, { clock, config: CONFIG });
        const again = decide(openGuard(0), input, { clock, config: CONFIG });
        expect(first.decision.verdict).toBe('inconclusive');
        expect(again).toEqual(first);
      }),
      { numRuns: 100 },
    );
  });
});
