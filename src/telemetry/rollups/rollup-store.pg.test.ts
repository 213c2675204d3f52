import { describe } from 'vitest';
import { openFreshPostgres, postgresAvailable } from '../../test-support/postgres.js';
import { describeRollupStoreContract } from './rollup-store.contract.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL', () => {
  describeRollupStoreContract('PostgreSQL', () => openFreshPostgres(4));
});
