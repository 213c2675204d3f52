import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BetsEnv, betsEnv, startSim } from '../bets/test-support/bets-fixtures.js';
import type { RunningSimulator } from '../simulator/index.js';
import { migrate } from '../storage/migrations.js';
import { MIGRATIONS } from '../storage/schema.js';
import { SqliteDatabase } from '../storage/sqlite-database.js';
import { DEMO_FLEET } from './demo-fleet.js';
import type { FleetSpec } from './fleet-spec.js';
import { seedFleet } from './seed-fleet.js';

describe('seeding a fleet', () => {
  let sim: RunningSimulator;
  let e: BetsEnv;
  beforeEach(async () => {
    sim = await startSim();
    const db = new SqliteDatabase(':memory:');
    await migrate(db, MIGRATIONS);
    e = await betsEnv(db, sim);
  });
  afterEach(async () => {
    await e.close();
    await sim.close();
  });

  const seed = (fleet: FleetSpec = DEMO_FLEET) =>
    seedFleet(e.registry, e.env.store, e.bets.suites, fleet, { endpoint: `${sim.url}/v1` });

  it('writes the demo fleet: every tenant with a key, a binding, contracts for both versions and a valid suite', async () => {
    const out = await seed();
    expect(out.tenants).toHaveLength(DEMO_FLEET.tenants.length);
    expect(DEMO_FLEET.tenants.length).toBeGreaterThanOrEqual(12);
    const groups = new Set(DEMO_FLEET.tenants.map((t) => t.group));
    expect([...groups].sort()).toEqual(['conservative', 'early', 'pioneers', 'standard']);
    for (const t of out.tenants) {
      expect(t.apiKey).toMatch(/^sy-/);
      expect(t.cases).toBeGreaterThanOrEqual(3);
      const suite = await e.bets.suites.get(t.tenantId, 'main');
      // Every case converted and validated: BFCL's quirks (dotted names, dict/float types) included.
      expect(suite.caseCount).toBe(t.cases);
      const contracts = await e.env.store.list('contract', { tenantId: t.tenantId });
      const expected = t.tools.length + (t.tenantId === 'legal-summarizer' ? 1 : 0);
      expect(contracts).toHaveLength(expected * 2);
    }
    const reviewer = out.tenants.find((t) => t.tenantId === 'code-reviewer');
    expect(reviewer?.tools).toEqual(['post_review']);
    const frozen = await e.env.store.get('tenant', 'data-pipeline');
    expect(frozen?.frozen).toBe(true);
    const binding = await e.env.store.list('tenant_channel', { tenantId: 'math-tutor' });
    expect(binding[0]).toMatchObject({ channel: 'assistant', stableVersionId: 'assistant-2026-01' });
  });

  it('leaves tenants that exist alone when seeded again', async () => {
    await seed();
    const again = await seed();
    expect(again.tenants).toEqual([]);
    expect(again.existing).toHaveLength(DEMO_FLEET.tenants.length);
  });

  it('refuses a tenant whose BFCL file does not exist, naming the tenant and the file', async () => {
    const fleet: FleetSpec = {
      ...DEMO_FLEET,
      tenants: [
        {
          ...(DEMO_FLEET.tenants[3] as FleetSpec['tenants'][number]),
          bfcl: { file: 'nope', offset: 0, count: 2 },
        },
      ],
    };
    await expect(seed(fleet)).rejects.toThrow(/tenant 'weather-concierge': cannot read BFCL file 'nope'/);
  });
});
