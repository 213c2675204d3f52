import { memorySqlite } from '../../test-support/registry-fixtures.js';
import { describeGatewayStoresContract } from './gateway-stores.contract.js';

describeGatewayStoresContract('SQLite', async () => {
  const db = await memorySqlite();
  return { db, cleanup: () => db.close() };
});
