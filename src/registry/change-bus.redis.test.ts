import { describe } from 'vitest';
import { REDIS_URL, redisAvailable, uniquePrefix } from '../test-support/redis.js';
import { describeChangeBusContract } from './change-bus.contract.js';
import { RedisChangeBus } from './redis-change-bus.js';

const available = await redisAvailable();

describe.skipIf(!available)('Redis', () => {
  describeChangeBusContract('Redis', async () => {
    const prefix = uniquePrefix();
    const a = new RedisChangeBus({ url: REDIS_URL, prefix });
    const b = new RedisChangeBus({ url: REDIS_URL, prefix });
    await Promise.all([a.ready(), b.ready()]);
    // A subscription is live only once Redis acknowledged it; give the SUBSCRIBE a moment.
    await new Promise((r) => setTimeout(r, 50));
    return [a, b];
  });
});
