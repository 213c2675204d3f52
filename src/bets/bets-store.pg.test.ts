import { describe } from 'vitest';
import { PostgresDatabase } from '../storage/postgres-database.js';
import { freshPostgresDatabase, postgresAvailable } from '../test-support/postgres.js';
import { describeBetsStoreContract } from './bets-store.contract.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL', () => {
  describeBetsStoreContract('PostgreSQL', async () => {
    // The template holds the registry's migrations; BETS migrations are applied on top per test.
    const fresh = await freshPostgresDatabase();
    const db = new PostgresDatabase({ url: fresh.url, maxConnections: 10 });
    return {
      db,
      cleanup: async () => {
        await db.close();
        await fresh.drop();
      },
    };
  });
});
