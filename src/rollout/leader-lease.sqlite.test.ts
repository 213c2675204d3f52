import { memorySqlite } from '../test-support/registry-fixtures.js';
import { describeLeaseContract } from './leader-lease.contract.js';

describeLeaseContract('SQLite', async () => {
  const db = await memorySqlite();
  return { db, cleanup: () => db.close() };
});
