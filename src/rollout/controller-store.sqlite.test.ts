import { memorySqlite } from '../test-support/registry-fixtures.js';
import { describeControllerStoreContract } from './controller-store.contract.js';

describeControllerStoreContract('SQLite', async () => {
  const db = await memorySqlite();
  return { db, cleanup: () => db.close() };
});
