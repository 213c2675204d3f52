import { describe } from 'vitest';
import { openFreshPostgres, postgresAvailable } from '../../test-support/postgres.js';
import { describeGatewayStoresContract } from './gateway-stores.contract.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL', () => {
  describeGatewayStoresContract('PostgreSQL', () => openFreshPostgres(4));
});
