import { memorySqlite } from '../test-support/registry-fixtures.js';
import { describeBetsStoreContract } from './bets-store.contract.js';

describeBetsStoreContract('SQLite', async () => {
  const db = await memorySqlite();
  return { db, cleanup: () => db.close() };
});
