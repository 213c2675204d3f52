import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgresDatabase, postgresAvailable } from '../src/test-support/postgres.js';
import { REDIS_URL, redisAvailable, uniquePrefix } from '../src/test-support/redis.js';
import { adminCall, type ServerProcess, startServerProcess } from '../src/test-support/server-process.js';

const available = (await postgresAvailable()) && (await redisAvailable());
const TOKEN = 'sya-propagation-test-token-000000';

interface Status {
  registryVersion: number;
  snapshotVersion: number;
  snapshotTenants: number;
  cache: { healthy: boolean };
}

/**
 * Two real processes sharing PostgreSQL and Redis: a change made through one must reach the
 * routing snapshot of the other (Redis pub/sub, with the version key as a safety net).
 */
describe.skipIf(!available)('registry change propagation between two processes (PostgreSQL + Redis)', () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const fresh = await freshPostgresDatabase();
    drop = fresh.drop;
    const config = {
      server: { port: 0 },
      storage: { driver: 'postgres' },
      cache: { driver: 'redis', prefix: uniquePrefix() },
      // Slow database polling, so only the Redis path can explain a fast propagation.
      snapshot: { storeCheckIntervalMs: 600_000 },
      log: { level: 'info' },
    };
    const env = {
      SWITCHYARD_DATABASE_URL: fresh.url,
      SWITCHYARD_REDIS_URL: REDIS_URL,
      SWITCHYARD_ADMIN_TOKEN: TOKEN,
    };
    [a, b] = await Promise.all([startServerProcess(config, env), startServerProcess(config, env)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await drop?.();
  });

  it('reaches the other process snapshot after every change', async () => {
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const created = await adminCall(a.url, TOKEN, 'POST', '/tenants', {
        id: `t${i}`,
        name: `Tenant ${i}`,
        rolloutGroup: 'early',
      });
      expect(created.status).toBe(201);
      const started = performance.now();
      const target = (await adminCall<Status>(a.url, TOKEN, 'GET', '/status')).body.registryVersion;
      let seen: Status;
      do {
        seen = (await adminCall<Status>(b.url, TOKEN, 'GET', '/status')).body;
      } while (seen.snapshotVersion < target && performance.now() - started < 10_000);
      delays.push(performance.now() - started);
      expect(seen.snapshotVersion).toBeGreaterThanOrEqual(target);
      expect(seen.snapshotTenants).toBe(i + 1);
      expect(seen.cache.healthy).toBe(true);
    }
    delays.sort((x, y) => x - y);
    console.info(
      `propagation A->B over 10 changes: median ${delays[5]?.toFixed(1)} ms, max ${delays[9]?.toFixed(1)} ms`,
    );
  });
});
