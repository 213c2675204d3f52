import { describe } from 'vitest';
import { openFreshPostgres, postgresAvailable } from '../../test-support/postgres.js';
import { describeDriftStoreContract } from './drift-store.contract.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL', () => {
  describeDriftStoreContract('PostgreSQL', () => openFreshPostgres(4));
});
