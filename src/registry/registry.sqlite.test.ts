import { memorySqlite } from '../test-support/registry-fixtures.js';
import { describeRegistryContract } from './registry.contract.js';

describeRegistryContract('SQLite', async () => {
  const db = await memorySqlite();
  return { db, cleanup: () => db.close() };
});
