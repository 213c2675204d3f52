import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../shared/clock.js';
import { eventually, FlakyProxy, REDIS_URL, redisAvailable } from '../test-support/redis.js';
import { RedisPinStore } from './redis-pin-store.js';

const HOUR = 3600_000;
const available = await redisAvailable();
let prefix = '';
const open: RedisPinStore[] = [];

function store(url = REDIS_URL) {
  const s = new RedisPinStore({
    url,
    prefix,
    clock: systemClock,
    capacity: 1000,
    maxTtlMs: HOUR,
    commandTimeoutMs: 500,
    cutRefreshMs: 60_000,
  });
  open.push(s);
  return s;
}

beforeAll(() => {
  prefix = `sy-test-${randomUUID()}`;
});
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

describe.skipIf(!available)('RedisPinStore', () => {
  it('shares pins between gateways; the first writer wins', async () => {
    const a = store();
    const b = store();
    await Promise.all([a.ready(), b.ready()]);
    const [pa, pb] = await Promise.all([
      a.getOrSet('t', 's1', 'v1', HOUR),
      b.getOrSet('t', 's1', 'v2', HOUR),
    ]);
    expect(pa.versionId).toBe(pb.versionId);
    expect((await b.getOrSet('t', 's1', 'v3', HOUR)).versionId).toBe(pa.versionId);
    expect(b.peek('t', 's1')?.versionId).toBe(pa.versionId);
    expect(a.health()).toMatchObject({ healthy: true });
  });

  it('propagates a hard cut to other gateways', async () => {
    const a = store();
    const b = store();
    await Promise.all([a.ready(), b.ready()]);
    await a.getOrSet('t', 'c1', 'v9', HOUR);
    await b.getOrSet('t', 'c1', 'v1', HOUR);
    await a.hardCut('t', 'v9');
    // A cut pin is read again from Redis (another gateway may have moved the session): peek defers.
    expect(a.peek('t', 'c1')).toBeUndefined();
    expect(await a.getOrSet('t', 'c1', 'v1', HOUR)).toMatchObject({ versionId: 'v9', cut: true });
    await b.syncCuts();
    expect(await b.getOrSet('t', 'c1', 'v1', HOUR)).toMatchObject({ versionId: 'v9', cut: true });
    b.replace('t', 'c1', 'v1', HOUR);
    const c = store();
    await c.ready();
    await eventually(
      async () => (await c.getOrSet('t', 'c1', 'v5', HOUR)).versionId === 'v1',
      'replacement visible',
    );
  });

  it('keeps serving from local pins while Redis is down, reports degraded, and resyncs when it returns', async () => {
    const proxy = new FlakyProxy(new URL(REDIS_URL));
    await proxy.up();
    const a = store(proxy.url);
    await a.ready();
    await a.getOrSet('t', 'known', 'v1', HOUR);
    await proxy.down();
    await eventually(() => !a.health().healthy, 'degraded');
    expect(a.peek('t', 'known')?.versionId).toBe('v1');
    expect((await a.getOrSet('t', 'during-outage', 'v2', HOUR)).versionId).toBe('v2');
    expect(a.stats().unsynced).toBe(1);

    await proxy.up();
    await eventually(() => a.health().healthy && a.stats().unsynced === 0, 'recovered and resynced');
    const b = store();
    await b.ready();
    expect((await b.getOrSet('t', 'during-outage', 'v3', HOUR)).versionId).toBe('v2');
    await proxy.down();
  });
});
