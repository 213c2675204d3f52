import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/load-config.js';
import { freshPostgresDatabase, postgresAvailable } from '../test-support/postgres.js';
import { createSwitchyard } from './compose.js';

const available = await postgresAvailable();

describe.skipIf(!available)('start-up of several processes at once (PostgreSQL)', () => {
  it('lets every process migrate, seed and register the bootstrap token without tripping on the others', async () => {
    const fresh = await freshPostgresDatabase();
    try {
      const config = validateConfig(
        { server: { port: 0 }, storage: { driver: 'postgres' }, log: { level: 'silent' } },
        { SWITCHYARD_DATABASE_URL: fresh.url },
      );
      const env = { SWITCHYARD_ADMIN_TOKEN: 'sya-race-token-0123456789abcdef' };
      const apps = await Promise.all([1, 2, 3].map(() => createSwitchyard(config, { env })));
      try {
        expect((await apps[0]?.store.list('rollout_group'))?.length).toBe(4);
        expect((await apps[0]?.store.list('admin_token'))?.length).toBe(1);
      } finally {
        await Promise.all(apps.map((a) => a.close()));
      }
    } finally {
      await fresh.drop();
    }
  });
});
