import { describe } from 'vitest';
import { openFreshPostgres, postgresAvailable } from '../test-support/postgres.js';
import { describeBetsStoreContract } from './bets-store.contract.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL', () => {
  describeBetsStoreContract('PostgreSQL', () => openFreshPostgres(10));
});
