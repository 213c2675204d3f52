import { describe } from 'vitest';
import { openFreshPostgres, postgresAvailable } from '../test-support/postgres.js';
import { describeRegistryContract } from './registry.contract.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL', () => {
  describeRegistryContract('PostgreSQL', () => openFreshPostgres(10));
});
