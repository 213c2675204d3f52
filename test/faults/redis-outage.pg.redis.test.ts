import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultScenario, faultInfrastructureAvailable } from '../../src/test-support/faults/scenario.js';
import { TrafficDriver } from '../../src/test-support/faults/traffic.js';

const available = await faultInfrastructureAvailable(true);

/**
 * Fault: Redis stops (a crash: SIGKILL, nothing persisted) while traffic flows and an upgrade is
 * in canary, then starts again, empty.
 *
 * What must hold:
 *  - the gateways keep serving: zero failed requests before, during and after the outage, with
 *    both cohorts still served (routing from the snapshot, pins from memory, new sessions bucketed
 *    locally), and no session changing version;
 *  - they say they are degraded while Redis is away, and recover by themselves: healthy again,
 *    the pins decided meanwhile written back to Redis;
 *  - no telemetry is lost: one stored event per request sent (per session and by request id), and
 *    the rollups count every one of them.
 *
 * Redis here is a private server on its own port (the shared one serves parallel suites).
 */
describe.skipIf(!available)('fault: Redis stops and starts again under traffic (PostgreSQL + Redis)', () => {
  let s: FaultScenario;

  beforeAll(async () => {
    s = await FaultScenario.start({
      privateRedis: true,
      tenants: [{ id: 'redis-a' }, { id: 'redis-b' }, { id: 'redis-c' }],
      plan: { stages: [{ percent: 50, soakHours: 1 }] },
    });
    await s.startUpgradeToCanary();
  }, 90_000);

  afterAll(async () => {
    await s?.close();
  });

  it('keeps serving with zero failures while Redis is down, recovers by itself, and stores one event per request', async () => {
    const traffic = new TrafficDriver({
      gateways: () => s.gatewayUrls(),
      tenants: s.tenants,
      channel: 'assistant',
      sessionsPerSecond: 8,
      turns: 4,
      thinkMs: 100,
      streamShare: 0.3,
      sessionPrefix: 'redis',
    }).start();
    traffic.phase('before');
    await sleep(3000);

    await s.redis?.stop('SIGKILL');
    traffic.phase('outage');
    // Both processes notice and say so (readiness stays 200: they still serve).
    await s.waitFor(
      async () =>
        (await Promise.all(s.nodes.map((n) => s.readyz(n)))).every(
          (r) => r.status === 'degraded' && r.down.includes('cache'),
        ),
      5000,
      'every process reports the cache as down',
    );
    await sleep(5000);

    await s.redis?.start();
    traffic.phase('recovery');
    const restartedAt = Date.now();
    await s.waitFor(
      async () => (await Promise.all(s.nodes.map((n) => s.readyz(n)))).every((r) => r.status === 'ok'),
      15_000,
      'every process is healthy again',
    );
    const recoveredInMs = Date.now() - restartedAt;
    traffic.phase('after');
    await sleep(3000);
    await traffic.stop();

    // The pins decided while Redis was away were written back (the new Redis started empty).
    const unsynced = await Promise.all(
      s.nodes.map(
        async (n) => ((await s.status(n)).gateway as { pins: { unsynced?: number } }).pins.unsynced,
      ),
    );
    const r = new Redis(s.redisUrl);
    const pinKeys = (await r.keys(`${s.prefix}:pin:*`)).length;
    r.disconnect();

    await s.stopNodes();
    const total = traffic.counts();
    const outage = traffic.counts('outage');
    const sessions = await s.eventsBySession('redis');
    const stored = await s.storedRequestIds('redis');
    const missingIds = [...traffic.requestIds].filter((id) => !stored.has(id));
    const sessionMismatches = [...traffic.perSession].filter(([id, n]) => sessions.get(id) !== n);
    const rollups = await s.rollupRequests("tenant_id LIKE 'redis-%'");
    console.info(
      `[faults] redis: sent ${total.sent}, succeeded ${total.succeeded}, failed ${total.failed} ` +
        `(outage: sent ${outage.sent}, succeeded ${outage.succeeded}, cohorts ${JSON.stringify(outage.byCohort)}); ` +
        `recovered in ${recoveredInMs} ms; pins in Redis after ${pinKeys}; unsynced ${JSON.stringify(unsynced)}; ` +
        `events ${stored.size}, rollup requests ${rollups}`,
    );

    expect(traffic.failures, s.logs()).toEqual([]);
    expect(total.failed).toBe(0);
    expect(total.succeeded).toBe(total.sent);
    expect(outage.sent).toBeGreaterThan(50);
    expect(outage.succeeded).toBe(outage.sent);
    // Routing went on with the canary split: both cohorts served while Redis was away.
    expect(outage.byCohort.canary ?? 0).toBeGreaterThan(0);
    expect(outage.byCohort.stable ?? 0).toBeGreaterThan(0);
    // Sessions moved between the two gateways at every turn and never changed version.
    expect(total.versionChanges).toBe(0);
    expect(unsynced).toEqual([0, 0]);
    expect(pinKeys).toBeGreaterThan(0);
    // No telemetry lost: every request has its event, every event is in the rollups.
    expect(missingIds).toEqual([]);
    expect(stored.size).toBe(total.sent);
    expect(sessionMismatches).toEqual([]);
    expect(rollups).toBe(total.sent);
  }, 90_000);
});
