import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * Real Redis for tests. Each test uses its own key prefix, so suites can share one server.
 * Skips with a message where Redis is not running; with SWITCHYARD_REQUIRE_REDIS=1 (CI) fails.
 */
export const REDIS_URL = process.env.SWITCHYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const REQUIRED = process.env.SWITCHYARD_REQUIRE_REDIS === '1';

export async function redisAvailable(): Promise<boolean> {
  const r = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
    return true;
  } catch (e) {
    const required = requiredError(e);
    if (required) throw required;
    return false;
  } finally {
    r.disconnect();
  }
}

function requiredError(e: unknown): Error | undefined {
  if (REQUIRED) {
    return new Error(
      `SWITCHYARD_REQUIRE_REDIS=1 but Redis at ${REDIS_URL} is unreachable: ${(e as Error).message}`,
    );
  }
  console.warn(
    `[skip] Redis suites skipped: nothing answers at ${REDIS_URL} (${(e as Error).message}). ` +
      'Start Redis or set SWITCHYARD_TEST_REDIS_URL; CI sets SWITCHYARD_REQUIRE_REDIS=1.',
  );
  return undefined;
}

export function uniquePrefix(): string {
  return `sytest:${randomBytes(5).toString('hex')}`;
}
