import { describe, expect, it } from 'vitest';
import { ManualClock } from '../shared/clock.js';
import { CoercionLedger, type CoercionRegressionSignal } from './coercion-ledger.js';

function setup(opts: ConstructorParameters<typeof CoercionLedger>[0] = {}) {
  const clock = new ManualClock();
  const raised: CoercionRegressionSignal[] = [];
  const ledger = new CoercionLedger({ clock, onSignal: (s) => raised.push(s), ...opts });
  return { clock, ledger, raised };
}

/** The gateway's policy-`coerce` flow for a call that coercion can repair. */
function repairable(ledger: CoercionLedger, tenant: string, version: string): boolean {
  const ok = ledger.shouldCoerce(tenant, version);
  ledger.record(tenant, version, ok ? 'coerced' : 'coercion_refused');
  return ok;
}

describe('CoercionLedger', () => {
  it('allows coercion up to the cap and never past it, then raises one signal and latches', () => {
    const { ledger, raised } = setup();
    let applied = 0;
    for (let i = 0; i < 1000; i++) {
      if (i % 25 === 0)
        applied += repairable(ledger, 't1', 'v2') ? 1 : 0; // 4% of calls need repair
      else ledger.record('t1', 'v2', 'valid');
    }
    const stats = ledger.stats('t1', 'v2');
    expect(stats.needed).toBe(40);
    expect(stats.capped).toBe(true);
    expect(applied).toBeLessThanOrEqual(2); // 2% of the 100-call floor
    expect(ledger.shouldCoerce('t1', 'v2')).toBe(false);
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({
      kind: 'coercion_cap_exceeded',
      tenantId: 't1',
      versionId: 'v2',
      cap: 0.02,
    });
    expect(ledger.signals()).toEqual(raised);
  });

  it('keeps coercing a rare drift (1%) indefinitely', () => {
    const { ledger, raised } = setup();
    let applied = 0;
    for (let i = 0; i < 10_000; i++) {
      if (i % 100 === 50) applied += repairable(ledger, 't1', 'v2') ? 1 : 0;
      else ledger.record('t1', 'v2', 'valid');
    }
    expect(applied).toBe(100);
    expect(raised).toHaveLength(0);
    expect(ledger.stats('t1', 'v2')).toMatchObject({
      calls: 10_000,
      needed: 100,
      coerced: 100,
      capped: false,
    });
  });

  it('judges a small tenant against the minCalls floor, not a rate on five calls', () => {
    const { ledger } = setup();
    expect(repairable(ledger, 'small', 'v')).toBe(true);
    expect(repairable(ledger, 'small', 'v')).toBe(true);
    expect(repairable(ledger, 'small', 'v')).toBe(false);
    expect(ledger.stats('small', 'v').capped).toBe(true);
  });

  it('forgets calls that slid out of the window, keeps tenants and versions apart, and resets on request', () => {
    const { clock, ledger } = setup({ windowMs: 60_000, buckets: 6, minCalls: 10, cap: 0.2 });
    for (let i = 0; i < 10; i++) ledger.record('a', 'v1', i < 2 ? 'coerced' : 'valid');
    expect(ledger.stats('a', 'v1')).toMatchObject({ calls: 10, needed: 2, rate: 0.2 });
    expect(ledger.stats('a', 'v2').calls).toBe(0);
    expect(ledger.stats('b', 'v1').calls).toBe(0);
    clock.advance(30_000);
    ledger.record('a', 'v1', 'valid');
    expect(ledger.stats('a', 'v1').calls).toBe(11);
    clock.advance(40_000);
    expect(ledger.stats('a', 'v1')).toMatchObject({ calls: 1, needed: 0 });
    for (let i = 0; i < 3; i++) ledger.record('a', 'v1', 'coercion_refused');
    expect(ledger.stats('a', 'v1').capped).toBe(true);
    clock.advance(3_600_000);
    expect(ledger.shouldCoerce('a', 'v1')).toBe(false); // latched: the window emptied, the signal stays
    ledger.reset('a', 'v1');
    expect(ledger.shouldCoerce('a', 'v1')).toBe(true);
    expect(ledger.signals()).toEqual([]);
  });

  it('prunes idle entries but keeps raised signals', () => {
    const { clock, ledger } = setup({ windowMs: 1000, minCalls: 1, cap: 0.5 });
    ledger.record('idle', 'v', 'valid');
    ledger.record('bad', 'v', 'coercion_refused');
    clock.advance(5000);
    ledger.prune();
    expect(ledger.signals().map((s) => s.tenantId)).toEqual(['bad']);
    expect(ledger.stats('idle', 'v').calls).toBe(0);
  });

  it('rejects a cap outside [0, 1]', () => {
    expect(() => new CoercionLedger({ cap: 2 })).toThrow(RangeError);
  });
});
