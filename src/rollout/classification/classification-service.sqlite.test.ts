import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bfclToJsonSchema, loadBfclCases, toToolName } from '../../contracts/bfcl-import.js';
import type { RegistryService } from '../../registry/registry-service.js';
import type { SqlRegistryStore } from '../../registry/sql-registry-store.js';
import type { ManualClock } from '../../shared/clock.js';
import type { SqlDatabase } from '../../storage/sql-database.js';
import { BFCL_DIR } from '../../test-support/bfcl.js';
import {
  memorySqlite,
  registryOver,
  SYSTEM,
  seedModels,
  seedTenant,
} from '../../test-support/registry-fixtures.js';
import type { RolloutPhase, TenantRollout, Upgrade } from '../rollout-types.js';
import { SqlRolloutStore } from '../sql-rollout-store.js';
import { ClassificationService } from './classification-service.js';
import { SqlClassificationStore } from './classification-store.js';
import { DEFAULT_CLASSIFICATION_POLICY } from './policy.js';

const DAY = 24 * 3600 * 1000;
const OPERATOR = { actor: 'token:tok_1/alice', requestId: 'req-1' };

let db: SqlDatabase;
let store: SqlRegistryStore;
let registry: RegistryService;
let clock: ManualClock;
let rollouts: SqlRolloutStore;
let records: SqlClassificationStore;
let service: ClassificationService;
let upgrades = 0;

beforeEach(async () => {
  db = await memorySqlite();
  ({ store, registry, clock } = await registryOver(db));
  await seedModels(registry);
  rollouts = new SqlRolloutStore(db);
  upgrades = 0;
  records = new SqlClassificationStore(db);
  service = new ClassificationService({
    registry,
    store,
    records,
    clock,
    rollouts,
    regressionWindowDays: 180,
  });
});
afterEach(async () => db.close());

/** An upgrade in which `tenantId`'s rollout is in `phase`, that phase having begun `daysAgo`. */
async function rolloutIn(tenantId: string, phase: RolloutPhase, daysAgo: number): Promise<void> {
  const now = clock.now();
  const iso = new Date(now).toISOString();
  const u: Upgrade = {
    id: `upg_${++upgrades}`,
    channel: 'gpt-x',
    fromVersionId: 'gpt-x-2026-01',
    toVersionId: 'gpt-x-2026-03',
    state: 'running',
    createdBy: 'alice',
    reason: null,
    version: 1,
    createdAt: iso,
    updatedAt: iso,
  };
  const r: TenantRollout = {
    id: `ro_${upgrades}_${tenantId}`,
    upgradeId: u.id,
    tenantId,
    channel: 'gpt-x',
    groupId: 'standard',
    phase,
    resumePhase: null,
    stage: 0,
    phaseSince: now - daysAgo * DAY,
    startedAt: now - (daysAgo + 1) * DAY,
    rollbackStep: null,
    reason: null,
    approvals: [],
    appliedSteps: [],
    version: 1,
    createdAt: iso,
    updatedAt: iso,
  };
  await rollouts.createUpgrade(u, [r]);
}

async function snapshot() {
  return JSON.stringify({ dump: await store.dump(), audit: await store.listAudit({ limit: 1000 }) });
}

describe('classification from the registry', () => {
  it('derives tool-call complexity from registered BFCL tool contracts when declared lower', async () => {
    await seedTenant(registry, 'tools-co');
    await registry.updateTenant(SYSTEM, 'tools-co', {
      riskProfile: { toolCallComplexity: 'low', declaredSensitivity: 'low' },
    });
    const before = await service.evaluate('tools-co');
    // criticality 2 + tools 0 + rigidity 1 + sensitivity 0: a pioneer while it has no tools.
    expect(before).toMatchObject({ groupId: 'pioneers', score: 3 });
    expect(before.derivation.toolCallComplexity).toMatchObject({ declared: 'low', used: 'low' });

    const cases = (await loadBfclCases(join(BFCL_DIR, 'BFCL_v4_multiple.json'))).slice(0, 20);
    for (const f of cases.flatMap((c) => c.function)) {
      await registry.registerContract(SYSTEM, 'tools-co', {
        modelVersionId: 'gpt-x-2026-01',
        name: toToolName(f.name),
        definition: { kind: 'tool', parameters: bfclToJsonSchema(f.parameters, { closed: true }, f.name) },
      });
    }
    const after = await service.evaluate('tools-co');
    expect(after.derivation.toolCallComplexity.derived.metrics).toEqual({
      toolCount: 52,
      maxDepth: 2,
      maxRequired: 5,
      enumCount: 0,
    });
    expect(after.profile.toolCallComplexity).toBe('high');
    // Tools now count 2: score 5, standard.
    expect(after).toMatchObject({ groupId: 'standard', score: 5 });
    expect(after.factors[1]?.why).toContain('declared low, derived high');
  });

  it('a declared level is a floor: contracts never lower it', async () => {
    await seedTenant(registry, 'declared');
    await registry.updateTenant(SYSTEM, 'declared', { riskProfile: { outputFormatRigidity: 'high' } });
    const e = await service.evaluate('declared');
    expect(e.derivation.outputFormatRigidity).toMatchObject({ declared: 'high', used: 'high' });
    expect(e.derivation.outputFormatRigidity.derived.level).toBe('low');
    expect(e.score).toBe(6);
  });

  it('counts only contracts of the versions the tenant is bound to', async () => {
    await seedTenant(registry, 'fmt');
    await registry.updateTenant(SYSTEM, 'fmt', { riskProfile: { outputFormatRigidity: 'low' } });
    await registry.registerContract(SYSTEM, 'fmt', {
      modelVersionId: 'gpt-x-2026-03',
      name: 'record',
      definition: { kind: 'format_json_schema', schema: { type: 'object', required: ['id'] } },
    });
    expect((await service.evaluate('fmt')).profile.outputFormatRigidity).toBe('low');
    await registry.updateChannel(SYSTEM, 'fmt', 'gpt-x', { candidateVersionId: 'gpt-x-2026-03' });
    expect((await service.evaluate('fmt')).profile.outputFormatRigidity).toBe('high');
  });

  it('a dry run changes nothing', async () => {
    await seedTenant(registry, 'acme');
    await rolloutIn('acme', 'rolled_back', 10);
    await rolloutIn('acme', 'rolled_back', 20);
    const before = await snapshot();
    const r = await service.classifyTenant(OPERATOR, 'acme', { apply: false });
    expect(r).toMatchObject({ decision: 'moved', applied: false, recordId: null, groupId: 'conservative' });
    expect(await snapshot()).toBe(before);
    expect(await records.listRecords('acme', 10)).toEqual([]);
  });
});

describe('applying a classification', () => {
  it('counts rolled-back and blocked rollouts in the window, moves the tenant, audits and records why', async () => {
    await seedTenant(registry, 'acme');
    await rolloutIn('acme', 'rolled_back', 10);
    await rolloutIn('acme', 'blocked', 30);
    await rolloutIn('acme', 'rolled_back', 400); // outside the 180-day window
    await rolloutIn('acme', 'complete', 5);

    const r = await service.classifyTenant({ ...OPERATOR, reason: 'quarterly review' }, 'acme', {
      apply: true,
    });
    expect(r.regressions).toMatchObject({ source: 'rollouts', declared: 0, count: 2, windowDays: 180 });
    expect(r.regressions.events.map((e) => e.phase)).toEqual(['blocked', 'rolled_back']);
    // default profile 5 + 2 regressions x 2 = 9
    expect(r).toMatchObject({ score: 9, fromGroupId: 'standard', groupId: 'conservative', applied: true });

    const tenant = await store.get('tenant', 'acme');
    expect(tenant?.rolloutGroup).toBe('conservative');
    expect(tenant?.riskProfile.regressionHistory).toBe(2);

    const [audit] = await store.listAudit({ entityKind: 'tenant', entityId: 'acme', limit: 1 });
    expect(audit?.actor).toBe(OPERATOR.actor);
    expect(audit?.reason).toContain('quarterly review');
    expect(audit?.reason).toContain(`classification ${r.recordId}: standard -> conservative (score 9`);
    expect(audit?.reason).toContain('regressionHistory 2 +4');
    expect(audit?.reason).toContain('regression history 0 -> 2');

    const [record] = await records.listRecords('acme', 10);
    expect(record).toMatchObject({
      id: r.recordId,
      outcome: 'moved',
      trigger: 'manual',
      fromGroupId: 'standard',
      groupId: 'conservative',
      score: 9,
      actor: OPERATOR.actor,
    });
    expect(record?.factors.map((f) => f.factor)).toEqual([
      'criticality',
      'toolCallComplexity',
      'outputFormatRigidity',
      'declaredSensitivity',
      'regressionHistory',
    ]);
    expect(record?.detail.reason).toBe(audit?.reason);

    // Applying again finds nothing to change: no tenant write, an `unchanged` record.
    const again = await service.classifyTenant(OPERATOR, 'acme', { apply: true });
    expect(again).toMatchObject({ decision: 'unchanged', applied: false });
    expect((await store.get('tenant', 'acme'))?.version).toBe(tenant?.version);
  });

  it('regressions age out of the window and the tenant moves back', async () => {
    await seedTenant(registry, 'acme');
    await rolloutIn('acme', 'rolled_back', 100);
    await service.classifyTenant(OPERATOR, 'acme', { apply: true });
    expect((await store.get('tenant', 'acme'))?.riskProfile.regressionHistory).toBe(1);
    clock.advance(100 * DAY);
    const r = await service.classifyTenant(OPERATOR, 'acme', { apply: true });
    expect(r).toMatchObject({ decision: 'updated', groupId: 'standard' });
    expect((await store.get('tenant', 'acme'))?.riskProfile.regressionHistory).toBe(0);
  });

  it('holds a frozen tenant and one in an active rollout, saying why, and writes nothing to them', async () => {
    await seedTenant(registry, 'frozen-co');
    await registry.updateTenant(SYSTEM, 'frozen-co', {
      frozen: true,
      riskProfile: { criticality: 'high', declaredSensitivity: 'high' },
    });
    await seedTenant(registry, 'busy-co');
    await registry.updateTenant(SYSTEM, 'busy-co', { riskProfile: { criticality: 'low' } });
    await rolloutIn('busy-co', 'canary', 1);
    await seedTenant(registry, 'mover');
    await registry.updateTenant(SYSTEM, 'mover', {
      riskProfile: { criticality: 'high', declaredSensitivity: 'high' },
    });
    await seedTenant(registry, 'calm');
    const versions = async (id: string) => (await store.get('tenant', id))?.version;
    const frozenVersion = await versions('frozen-co');
    const busyVersion = await versions('busy-co');

    const run = await service.runFleet(OPERATOR, { apply: true });
    expect(run.evaluated).toBe(4);
    expect(run.moves.map((m) => [m.tenantId, m.groupId])).toEqual([['mover', 'conservative']]);
    expect(run.held.map((h) => [h.tenantId, h.groupId, h.held])).toEqual([
      ['busy-co', 'pioneers', 'the tenant is in an active rollout: upg_1 (canary)'],
      ['frozen-co', 'conservative', 'the tenant is frozen'],
    ]);
    expect(run.unchanged).toEqual(['calm']);
    expect(run.failed).toEqual([]);
    expect(await versions('frozen-co')).toBe(frozenVersion);
    expect(await versions('busy-co')).toBe(busyVersion);
    expect((await store.get('tenant', 'mover'))?.rolloutGroup).toBe('conservative');
    expect((await records.listRecords('frozen-co', 5))[0]).toMatchObject({
      outcome: 'held',
      trigger: 'fleet',
    });
  });

  it('a fleet dry run lists the moves and changes nothing', async () => {
    await seedTenant(registry, 'mover');
    await registry.updateTenant(SYSTEM, 'mover', { riskProfile: { criticality: 'low' } });
    const before = await snapshot();
    const run = await service.runFleet(OPERATOR, { apply: false });
    expect(run.moves).toHaveLength(1);
    expect(run.moves[0]).toMatchObject({ tenantId: 'mover', fromGroupId: 'standard', groupId: 'pioneers' });
    expect(run.moves[0]?.reason).toContain('standard -> pioneers (score 3');
    expect(await snapshot()).toBe(before);
  });

  it('a tenant the policy sends to a missing group fails alone; the run goes on', async () => {
    const odd = new ClassificationService({
      registry,
      store,
      records,
      clock,
      policy: {
        ...DEFAULT_CLASSIFICATION_POLICY,
        bands: [
          { groupId: 'pioneers', maxScore: 3 },
          { groupId: 'regulated', maxScore: null },
        ],
        floors: [],
      },
    });
    await seedTenant(registry, 'a-low');
    await registry.updateTenant(SYSTEM, 'a-low', { riskProfile: { criticality: 'low' } });
    await seedTenant(registry, 'b-default');
    const run = await odd.runFleet(OPERATOR, { apply: true });
    expect(run.moves.map((m) => m.tenantId)).toEqual(['a-low']);
    expect(run.failed).toEqual([
      expect.objectContaining({ tenantId: 'b-default', code: 'invalid_reference' }),
    ]);
    expect((await store.get('tenant', 'b-default'))?.rolloutGroup).toBe('standard');
  });

  it('without a rollout store, the recorded regression history is used as it is', async () => {
    const plain = new ClassificationService({ registry, store, records, clock });
    await seedTenant(registry, 'acme');
    await registry.updateTenant(SYSTEM, 'acme', { riskProfile: { regressionHistory: 2 } });
    await rolloutIn('acme', 'canary', 1);
    const r = await plain.classifyTenant(OPERATOR, 'acme', { apply: true });
    expect(r.regressions).toMatchObject({ source: 'profile', count: 2 });
    expect(r).toMatchObject({ groupId: 'conservative', decision: 'moved', held: null });
  });

  it('a tenant declares its sensitivity: audited, and the classification it leads to is returned', async () => {
    await seedTenant(registry, 'acme');
    const r = await service.declareSensitivity(
      { actor: 'token:tok_2/acme-contact', reason: 'we now process health data' },
      'acme',
      'high',
    );
    expect(r.tenant.riskProfile.declaredSensitivity).toBe('high');
    expect(r.tenant.rolloutGroup).toBe('standard');
    expect(r.classification).toMatchObject({ groupId: 'standard', score: 7, decision: 'unchanged' });
    const [audit] = await store.listAudit({ entityKind: 'tenant', entityId: 'acme', limit: 1 });
    expect(audit).toMatchObject({ actor: 'token:tok_2/acme-contact', reason: 'we now process health data' });
  });
});
