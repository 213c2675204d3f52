import { describe } from 'vitest';
import { PostgresDatabase } from '../../storage/postgres-database.js';
import { freshPostgresDatabase, postgresAvailable } from '../../test-support/postgres.js';
import { describeGatewayStoresContract } from './gateway-stores.contract.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL', () => {
  describeGatewayStoresContract('PostgreSQL', async () => {
    const fresh = await freshPostgresDatabase();
    const db = new PostgresDatabase({ url: fresh.url, maxConnections: 4 });
    return {
      db,
      cleanup: async () => {
        await db.close();
        await fresh.drop();
      },
    };
  });
});
