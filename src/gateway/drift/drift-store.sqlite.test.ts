import { memorySqlite } from '../../test-support/registry-fixtures.js';
import { describeDriftStoreContract } from './drift-store.contract.js';

describeDriftStoreContract('SQLite', async () => {
  const db = await memorySqlite();
  return { db, cleanup: () => db.close() };
});
