import { describe } from 'vitest';
import { openFreshPostgres, postgresAvailable } from '../test-support/postgres.js';
import { describeControllerStoreContract } from './controller-store.contract.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL', () => {
  describeControllerStoreContract('PostgreSQL', () => openFreshPostgres(4));
});
