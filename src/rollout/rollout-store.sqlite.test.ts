import { memorySqlite } from '../test-support/registry-fixtures.js';
import { describeRolloutStoreContract } from './rollout-store.contract.js';

describeRolloutStoreContract('SQLite', async () => {
  const db = await memorySqlite();
  return { db, cleanup: () => db.close() };
});
