import { describe } from 'vitest';
import { openFreshPostgres, postgresAvailable } from '../test-support/postgres.js';
import { describeLeaseContract } from './leader-lease.contract.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL', () => {
  describeLeaseContract('PostgreSQL', () => openFreshPostgres(8));
});
