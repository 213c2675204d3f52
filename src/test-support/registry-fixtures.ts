import { InProcessChangeBus } from '../registry/change-bus.js';
import { RegistryService } from '../registry/registry-service.js';
import { SqlRegistryStore } from '../registry/sql-registry-store.js';
import { ManualClock } from '../shared/clock.js';
import { migrate } from '../storage/migrations.js';
import { MIGRATIONS } from '../storage/schema.js';
import type { SqlDatabase } from '../storage/sql-database.js';
import { SqliteDatabase } from '../storage/sqlite-database.js';

export const SYSTEM = { actor: 'test:system' };

export async function memorySqlite(): Promise<SqlDatabase> {
  const db = new SqliteDatabase(':memory:');
  await migrate(db, MIGRATIONS);
  return db;
}

/** A registry over `db` with the default groups seeded and a manual clock. */
export async function registryOver(db: SqlDatabase) {
  const store = new SqlRegistryStore(db);
  const bus = new InProcessChangeBus();
  const clock = new ManualClock(Date.UTC(2026, 2, 1));
  const registry = new RegistryService(store, bus, clock);
  await registry.seedDefaultGroups(SYSTEM);
  return { store, bus, clock, registry };
}

/** Two versions of channel `gpt-x`: the 2026-01 one active, the 2026-03 one a candidate. */
export async function seedModels(registry: RegistryService) {
  const base = {
    channel: 'gpt-x',
    providerKind: 'openai-compatible' as const,
    endpoint: 'http://127.0.0.1:9/v1',
  };
  await registry.createModel(SYSTEM, {
    ...base,
    id: 'gpt-x-2026-01',
    upstreamModel: 'sim-x-01',
    lifecycle: 'active',
  });
  await registry.createModel(SYSTEM, { ...base, id: 'gpt-x-2026-03', upstreamModel: 'sim-x-03' });
}

/** A tenant bound to channel `gpt-x` on its stable 2026-01 version (models must exist). */
export async function seedTenant(registry: RegistryService, tenantId = 'acme') {
  const tenant = await registry.createTenant(SYSTEM, { id: tenantId, name: `Tenant ${tenantId}` });
  const channel = await registry.bindChannel(SYSTEM, tenantId, {
    channel: 'gpt-x',
    stableVersionId: 'gpt-x-2026-01',
  });
  return { tenant, channel };
}

export const WEATHER_TOOL = {
  kind: 'tool' as const,
  description: 'current weather for a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
    required: ['city'],
    additionalProperties: false,
  },
};
