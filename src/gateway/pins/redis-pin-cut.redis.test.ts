import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { eventually, FlakyProxy, REDIS_URL, redisAvailable } from '../test-support/redis.js';
import { RedisPinStore } from './redis-pin-store.js';

/**
 * Hard cuts across gateways (found by test/scaled-topology.pg.redis.test.ts): a session whose turns
 * hop between gateways must be moved off a cut version once, and never come back to it.
 */
const HOUR = 3600_000;
const available = await redisAvailable();
const prefix = `sy-test-${randomUUID()}`;
const open: RedisPinStore[] = [];
const clock = new ManualClock(Date.UTC(2026, 5, 1));

function store(url = REDIS_URL, cutDelayMs = 2000) {
  const s = new RedisPinStore({
    url,
    prefix,
    clock,
    capacity: 1000,
    maxTtlMs: HOUR,
    commandTimeoutMs: 500,
    cutRefreshMs: 60_000,
    cutDelayMs,
  });
  open.push(s);
  return s;
}

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});
afterAll(async () => {
  if (!available) return;
  const client = new Redis(REDIS_URL);
  const keys = await client.keys(`${prefix}:*`);
  if (keys.length > 0) await client.del(...keys);
  client.disconnect();
});

describe.skipIf(!available)('RedisPinStore hard cuts across gateways', () => {
  it('takes effect on every gateway at the same moment, once all have heard of it', async () => {
    const a = store();
    const b = store();
    await Promise.all([a.ready(), b.ready()]);
    await a.getOrSet('t', 's1', 'cand', HOUR);
    await b.getOrSet('t', 's1', 'stable', HOUR);
    await a.hardCut('t', 'cand');
    await b.syncCuts();
    // Until the cut's time, both still serve the session where it was: nobody moves it early.
    expect(a.peek('t', 's1')).toMatchObject({ versionId: 'cand', cut: false });
    expect(b.peek('t', 's1')).toMatchObject({ versionId: 'cand', cut: false });
    clock.advance(2000);
    expect((await a.getOrSet('t', 's1', 'stable', HOUR)).cut).toBe(true);
    expect((await b.getOrSet('t', 's1', 'stable', HOUR)).cut).toBe(true);
  });

  it('a session another gateway already moved is not moved (nor told) again', async () => {
    const a = store();
    const b = store();
    await Promise.all([a.ready(), b.ready()]);
    await a.getOrSet('t', 's2', 'cand', HOUR);
    expect((await b.getOrSet('t', 's2', 'stable', HOUR)).versionId).toBe('cand');
    await a.hardCut('t', 'cand');
    await b.syncCuts();
    clock.advance(2000);
    // Gateway a serves the next turn: cut, moved to stable (what the router does).
    expect((await a.getOrSet('t', 's2', 'stable', HOUR)).cut).toBe(true);
    clock.advance(1);
    a.replace('t', 's2', 'stable', HOUR);
    // Gateway b still holds the old pin in memory; Redis has the new one, and b answers with it.
    await eventually(async () => {
      const pin = b.peek('t', 's2') ?? (await b.getOrSet('t', 's2', 'stable', HOUR));
      return pin.versionId === 'stable' && !pin.cut;
    }, 'the moved pin on the other gateway');
  });

  it('without Redis, a cut pin in memory is still cut (the session is moved and told)', async () => {
    const proxy = new FlakyProxy(new URL(REDIS_URL));
    await proxy.up();
    const a = store(proxy.url, 0);
    await a.ready();
    await a.getOrSet('t', 's3', 'cand', HOUR);
    await a.hardCut('t', 'cand');
    clock.advance(1);
    await proxy.down();
    await eventually(() => !a.health().healthy, 'degraded');
    expect(a.peek('t', 's3')).toMatchObject({ versionId: 'cand', cut: true });
    expect(await a.getOrSet('t', 's3', 'stable', HOUR)).toMatchObject({ versionId: 'cand', cut: true });
  });
});
