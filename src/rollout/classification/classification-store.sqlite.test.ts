import { memorySqlite } from '../../test-support/registry-fixtures.js';
import { describeClassificationStoreContract } from './classification-store.contract.js';

describeClassificationStoreContract('sqlite', async () => {
  const db = await memorySqlite();
  return { db, cleanup: () => db.close() };
});
