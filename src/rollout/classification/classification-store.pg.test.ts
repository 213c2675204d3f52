import { describe } from 'vitest';
import { openFreshPostgres, postgresAvailable } from '../../test-support/postgres.js';
import { describeClassificationStoreContract } from './classification-store.contract.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL', () => {
  describeClassificationStoreContract('PostgreSQL', () => openFreshPostgres(8));
});
