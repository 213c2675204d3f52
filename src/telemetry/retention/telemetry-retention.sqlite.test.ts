import { memorySqlite } from '../../test-support/registry-fixtures.js';
import { describeRetentionContract } from './telemetry-retention.contract.js';

describeRetentionContract('SQLite', async () => {
  const db = await memorySqlite();
  return { db, cleanup: () => db.close() };
});
