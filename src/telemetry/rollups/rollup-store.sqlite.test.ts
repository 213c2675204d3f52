import { memorySqlite } from '../../test-support/registry-fixtures.js';
import { describeRollupStoreContract } from './rollup-store.contract.js';

describeRollupStoreContract('SQLite', async () => {
  const db = await memorySqlite();
  return { db, cleanup: () => db.close() };
});
