import { describe, expect, it } from 'vitest';
import type { RoutingSnapshot } from '../../registry/routing-snapshot.js';
import { ManualClock } from '../../shared/clock.js';
import { MemoryPinStore } from '../pins/memory-pin-store.js';
import { binding, snapshotOf, tenant, version } from '../test-support/snapshot-builder.js';
import { canaryBucket, inCanary } from './bucket.js';
import { Router } from './router.js';

const STABLE = version('m-v1', 'm');
const CANDIDATE = version('m-v2', 'm');

function world(canaryPercent: number, opts: { frozen?: boolean; pinned?: boolean; retired?: boolean } = {}) {
  return snapshotOf(
    [STABLE, { ...CANDIDATE, lifecycle: opts.retired ? 'retired' : 'candidate' }],
    [tenant('t1', { frozen: opts.frozen ?? false })],
    [
      binding('t1', 'm', 'm-v1', {
        candidateVersionId: 'm-v2',
        canaryPercent,
        upgradeId: 'upg-1',
        pinned: opts.pinned ?? false,
      }),
    ],
  );
}

function setup() {
  const clock = new ManualClock();
  const pins = new MemoryPinStore({ clock, capacity: 100_000, maxTtlMs: 3600_000 });
  const router = new Router(pins, clock, 3600_000);
  const decide = async (snap: RoutingSnapshot, session: string) => {
    const t = snap.tenants.get('t1');
    const route = t?.channels.get('m');
    if (!t || !route) throw new Error('bad fixture');
    return router.decide(snap, t, route, session);
  };
  return { clock, pins, decide };
}

const sessions = (n: number, prefix = 's') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('canary bucketing', () => {
  it('puts roughly the canary share of 2000 new sessions on the candidate', async () => {
    for (const percent of [5, 25, 50]) {
      const { decide } = setup();
      const snap = world(percent);
      let canary = 0;
      for (const s of sessions(2000, `p${percent}`))
        if ((await decide(snap, s)).cohort === 'canary') canary++;
      const share = (canary / 2000) * 100;
      // 2000 Bernoulli draws: the standard deviation at 50% is ~1.1 points; allow ~4 sigma.
      expect(Math.abs(share - percent)).toBeLessThan(4.5);
    }
  });

  it('is deterministic and monotonic in the percentage', () => {
    for (const s of sessions(500)) {
      const b = canaryBucket('t1', s, 'upg-1');
      expect(canaryBucket('t1', s, 'upg-1')).toBe(b);
      if (inCanary(b, 10)) expect(inCanary(b, 50)).toBe(true);
    }
    expect(inCanary(0, 0)).toBe(false);
    expect(inCanary(9999, 100)).toBe(true);
    expect(inCanary(49, 0.5)).toBe(true);
    expect(inCanary(50, 0.5)).toBe(false);
  });
});

describe('session stickiness', () => {
  it('keeps every live session on its version when the percentage goes up, down or to zero', async () => {
    const { decide } = setup();
    const first = new Map<string, string>();
    const at30 = world(30);
    for (const s of sessions(400)) first.set(s, (await decide(at30, s)).version.id);
    expect([...first.values()].filter((v) => v === 'm-v2').length).toBeGreaterThan(50);
    for (const percent of [90, 0, 100, 1]) {
      const snap = world(percent);
      for (const [s, v] of first) {
        const d = await decide(snap, s);
        expect(d.version.id).toBe(v);
        expect(d.reset).toBe(false);
      }
    }
    // New sessions follow the new percentage.
    let canary = 0;
    const at100 = world(100);
    for (const s of sessions(200, 'new')) if ((await decide(at100, s)).cohort === 'canary') canary++;
    expect(canary).toBe(200);
  });

  it('sends new sessions of a frozen tenant or pinned binding to stable; existing pins win', async () => {
    const { decide } = setup();
    const onCandidate = 'early-session';
    expect((await decide(world(100), onCandidate)).version.id).toBe('m-v2');
    const worlds = [world(100, { frozen: true }), world(100, { pinned: true })];
    for (const [i, w] of worlds.entries()) {
      for (const s of sessions(50, `late-${i}`)) expect((await decide(w, s)).version.id).toBe('m-v1');
      expect((await decide(w, onCandidate)).version.id).toBe('m-v2');
    }
  });

  it('routes to stable when there is no candidate', async () => {
    const { decide } = setup();
    const snap = snapshotOf([STABLE], [tenant('t1')], [binding('t1', 'm', 'm-v1', { canaryPercent: 100 })]);
    for (const s of sessions(20))
      expect(await decide(snap, s)).toMatchObject({ cohort: 'stable', reset: false });
  });
});

describe('hard cuts and retired versions', () => {
  it('moves cut sessions to stable once, telling the client', async () => {
    const { decide, pins, clock } = setup();
    expect((await decide(world(100), 'a')).version.id).toBe('m-v2');
    clock.advance(1000);
    await pins.hardCut('t1', 'm-v2');
    clock.advance(1000);
    expect(await decide(world(100), 'a')).toMatchObject({ version: STABLE, cohort: 'stable', reset: true });
    expect(await decide(world(100), 'a')).toMatchObject({ version: STABLE, reset: false });
    // A session that starts after the cut may still be bucketed onto the version.
    expect((await decide(world(100), 'b')).version.id).toBe('m-v2');
  });

  it('moves sessions off a retired version', async () => {
    const { decide } = setup();
    expect((await decide(world(100), 'a')).version.id).toBe('m-v2');
    expect(await decide(world(100, { retired: true }), 'a')).toMatchObject({ version: STABLE, reset: true });
  });
});
