import { describe } from 'vitest';
import { openFreshPostgres, postgresAvailable } from '../test-support/postgres.js';
import { describeRolloutStoreContract } from './rollout-store.contract.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL', () => {
  describeRolloutStoreContract('PostgreSQL', () => openFreshPostgres(8));
});
