import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EMPTY_SNAPSHOT } from '../registry/routing-snapshot.js';
import { systemClock } from '../shared/clock.js';
import type { FeedbackStore } from './feedback/feedback-store.js';
import { createGateway } from './gateway.js';
import { RedisPinStore } from './pins/redis-pin-store.js';

const feedback: FeedbackStore = { append: async () => {}, listForTenant: async () => [] };

describe('gateway health', () => {
  it('reports a lost Redis as degraded while pins keep working locally', async () => {
    // Nothing listens on port 9: the pin store cannot connect.
    const pins = new RedisPinStore({
      url: 'redis://127.0.0.1:9',
      prefix: 'sy-health',
      clock: systemClock,
      capacity: 100,
      maxTtlMs: 60_000,
      commandTimeoutMs: 100,
      cutRefreshMs: 60_000,
    });
    const gateway = createGateway({
      snapshots: { current: () => EMPTY_SNAPSHOT },
      pins,
      telemetry: { append: async () => {} },
      feedback,
      shadow: { append: async () => {} },
      logger: pino({ level: 'silent' }),
      clock: systemClock,
    });
    expect((await pins.getOrSet('t', 's', 'v1', 60_000)).versionId).toBe('v1');
    expect(gateway.health().degraded).toContain('session-pins');
    expect(gateway.health().components.find((c) => c.name === 'session-pins')?.detail).toMatch(
      /serving local pins/,
    );
    await gateway.close();
    await pins.close();
  });
});
