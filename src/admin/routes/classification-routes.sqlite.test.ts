import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpApp } from '../../http/create-http-app.js';
import type { RegistryService } from '../../registry/registry-service.js';
import type { SqlRegistryStore } from '../../registry/sql-registry-store.js';
import { ClassificationService } from '../../rollout/classification/classification-service.js';
import { SqlClassificationStore } from '../../rollout/classification/classification-store.js';
import { SqlRolloutStore } from '../../rollout/sql-rollout-store.js';
import type { SqlDatabase } from '../../storage/sql-database.js';
import {
  memorySqlite,
  registryOver,
  SYSTEM,
  seedModels,
  seedTenant,
} from '../../test-support/registry-fixtures.js';
import { adminApi } from '../admin-api.js';
import { AdminAuth } from '../admin-auth.js';

let db: SqlDatabase;
let store: SqlRegistryStore;
let registry: RegistryService;
let http: HttpApp;
const tokens: Record<string, string> = {};

interface Res {
  status: number;
  body: Record<string, unknown> & {
    error?: {
      code: string;
      message: string;
      details: { path: string; message: string }[];
      requestId: string;
    };
  };
}

async function call(
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  token: string,
  body?: unknown,
  headers = {},
) {
  const r = await http.inject({
    method,
    url: `/admin/v1${url}`,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : {} } as Res;
}

/** Everything a refused request must leave untouched. */
async function fingerprint() {
  return JSON.stringify({ dump: await store.dump(), audit: await store.listAudit({ limit: 1000 }) });
}

beforeEach(async () => {
  db = await memorySqlite();
  let clock: import('../../shared/clock.js').ManualClock;
  ({ store, registry, clock } = await registryOver(db));
  await seedModels(registry);
  await seedTenant(registry, 'acme');
  await seedTenant(registry, 'globex');
  await registry.updateTenant(SYSTEM, 'globex', { riskProfile: { criticality: 'low' } });
  for (const [name, role, tenantId] of [
    ['operator', 'operator', undefined],
    ['approver', 'approver', undefined],
    ['viewer', 'viewer', undefined],
    ['acme', 'tenant_contact', 'acme'],
    ['globex', 'tenant_contact', 'globex'],
  ] as const) {
    const { secret } = await registry.createAdminToken(SYSTEM, {
      name,
      role,
      ...(tenantId ? { tenantId } : {}),
    });
    tokens[name] = secret;
  }
  const service = new ClassificationService({
    registry,
    store,
    records: new SqlClassificationStore(db),
    clock,
    rollouts: new SqlRolloutStore(db),
  });
  http = await createHttpApp({ logger: pino({ level: 'silent' }), bodyLimitBytes: 64 * 1024 });
  await http.register(
    adminApi({
      registry,
      store,
      auth: new AdminAuth(store, registry),
      status: async () => ({}),
      classification: { service, store },
    }),
    { prefix: '/admin/v1' },
  );
  await http.ready();
});
afterEach(async () => {
  await http.close();
  await db.close();
});

const t = (name: string) => tokens[name] ?? '';

describe('PUT /tenants/:tenantId/sensitivity', () => {
  it("a tenant's own contact declares it: audited with its reason, and the resulting classification shown", async () => {
    const r = await call('PUT', '/tenants/acme/sensitivity', t('acme'), {
      level: 'high',
      reason: 'we now handle health records',
    });
    expect(r.status).toBe(200);
    const body = r.body as {
      tenant: { riskProfile: { declaredSensitivity: string } };
      classification: unknown;
    };
    expect(body.tenant.riskProfile.declaredSensitivity).toBe('high');
    expect(body.classification).toMatchObject({ tenantId: 'acme', groupId: 'standard', score: 7 });
    const [audit] = await store.listAudit({ entityKind: 'tenant', entityId: 'acme', limit: 1 });
    expect(audit).toMatchObject({
      actor: expect.stringContaining('/acme'),
      reason: 'we now handle health records',
    });
    expect(audit?.after).toMatchObject({ riskProfile: { declaredSensitivity: 'high' } });
  });

  it("another tenant's contact gets the same 404 as a missing tenant, and nothing changes", async () => {
    const before = await fingerprint();
    const other = await call('PUT', '/tenants/acme/sensitivity', t('globex'), { level: 'low', reason: 'x' });
    const missing = await call('PUT', '/tenants/nobody/sensitivity', t('globex'), {
      level: 'low',
      reason: 'x',
    });
    expect(other.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(other.body.error?.code).toBe('not_found');
    expect(other.body.error?.message).toBe("Tenant 'acme' was not found");
    expect(missing.body.error?.message).toBe("Tenant 'nobody' was not found");
    expect(await fingerprint()).toBe(before);
  });

  it('operators may declare for any tenant; viewers and approvers may not', async () => {
    expect(
      (await call('PUT', '/tenants/acme/sensitivity', t('viewer'), { level: 'low', reason: 'x' })).status,
    ).toBe(403);
    expect(
      (await call('PUT', '/tenants/acme/sensitivity', t('approver'), { level: 'low', reason: 'x' })).status,
    ).toBe(403);
    expect(
      (
        await call('PUT', '/tenants/acme/sensitivity', t('operator'), {
          level: 'low',
          reason: 'contract says so',
        })
      ).status,
    ).toBe(200);
  });

  it('bad input gets the error envelope with every problem, and changes nothing', async () => {
    const before = await fingerprint();
    const r = await call('PUT', '/tenants/acme/sensitivity', t('acme'), { level: 'extreme', extra: 1 });
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('invalid_input');
    const paths = r.body.error?.details.map((d) => d.path) ?? [];
    expect(paths).toEqual(expect.arrayContaining(['/body', '/body/level']));
    expect(r.body.error?.details.some((d) => d.message.includes('reason'))).toBe(true);
    expect(r.body.error?.details.some((d) => d.message.includes("'extra'"))).toBe(true);
    expect(typeof r.body.error?.requestId).toBe('string');
    const stale = await call(
      'PUT',
      '/tenants/acme/sensitivity',
      t('acme'),
      { level: 'low', reason: 'x' },
      { 'if-match': '"7"' },
    );
    expect(stale.status).toBe(409);
    expect(stale.body.error?.code).toBe('version_conflict');
    expect(await fingerprint()).toBe(before);
  });
});

describe('POST /tenants/:tenantId/classify', () => {
  it('a dry run by default: the proposal with every factor, nothing written', async () => {
    const before = await fingerprint();
    const r = await call('POST', '/tenants/globex/classify', t('viewer'), {});
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      tenantId: 'globex',
      fromGroupId: 'standard',
      groupId: 'pioneers',
      score: 3,
      decision: 'moved',
      applied: false,
      recordId: null,
    });
    expect((r.body.factors as unknown[]).length).toBe(5);
    expect(r.body.factors).toContainEqual({
      factor: 'criticality',
      value: 'low',
      points: 0,
      why: 'criticality is low: 0 points',
    });
    expect(await fingerprint()).toBe(before);
  });

  it('apply moves the tenant (operator only), audited with the reason', async () => {
    for (const who of ['viewer', 'approver', 'globex']) {
      const r = await call('POST', '/tenants/globex/classify', t(who), { apply: true });
      expect(r.status).toBe(403);
      expect(r.body.error?.code).toBe('forbidden');
    }
    const r = await call('POST', '/tenants/globex/classify', t('operator'), {
      apply: true,
      reason: 'review',
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ applied: true, decision: 'moved', groupId: 'pioneers' });
    expect((await store.get('tenant', 'globex'))?.rolloutGroup).toBe('pioneers');
    const [audit] = await store.listAudit({ entityKind: 'tenant', entityId: 'globex', limit: 1 });
    expect(audit?.reason).toMatch(/^review; classification cls_\w+: standard -> pioneers \(score 3/);
  });

  it("a tenant contact sees its own proposal only; another tenant's is 404, even with apply", async () => {
    expect((await call('POST', '/tenants/globex/classify', t('globex'), {})).status).toBe(200);
    for (const body of [{}, { apply: true }]) {
      const r = await call('POST', '/tenants/globex/classify', t('acme'), body);
      expect(r.status).toBe(404);
      expect(r.body.error?.message).toBe("Tenant 'globex' was not found");
    }
  });

  it('rejects a body of the wrong shape and a missing body', async () => {
    const r = await call('POST', '/tenants/globex/classify', t('operator'), { apply: 'yes' });
    expect(r.status).toBe(400);
    expect(r.body.error?.details[0]?.path).toBe('/body/apply');
    const none = await call('POST', '/tenants/globex/classify', t('operator'));
    expect(none.status).toBe(400);
    expect(none.body.error?.code).toBe('invalid_input');
    expect((await call('POST', '/tenants/nobody/classify', t('operator'), {})).status).toBe(404);
  });
});

describe('POST /classification/run and GET /tenants/:tenantId/classifications', () => {
  it('the fleet run is for platform roles: dry run to read, apply to operators', async () => {
    expect((await call('POST', '/classification/run', t('acme'), {})).status).toBe(403);
    expect((await call('POST', '/classification/run', t('viewer'), { apply: true })).status).toBe(403);
    const before = await fingerprint();
    const dry = await call('POST', '/classification/run', t('viewer'), {});
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ apply: false, evaluated: 2, unchanged: ['acme'], failed: [] });
    expect((dry.body.moves as Array<{ tenantId: string; reason: string }>).map((m) => m.tenantId)).toEqual([
      'globex',
    ]);
    expect(await fingerprint()).toBe(before);
    const applied = await call('POST', '/classification/run', t('operator'), { apply: true });
    expect(applied.body).toMatchObject({ apply: true, evaluated: 2 });
    expect((await store.get('tenant', 'globex'))?.rolloutGroup).toBe('pioneers');
  });

  it("lists a tenant's records to its own contact only", async () => {
    await call('POST', '/classification/run', t('operator'), { apply: true });
    const own = await call('GET', '/tenants/globex/classifications', t('globex'));
    expect(own.status).toBe(200);
    const items = own.body.items as Array<{ tenantId: string; outcome: string; factors: unknown[] }>;
    expect(items.map((i) => [i.tenantId, i.outcome])).toEqual([['globex', 'moved']]);
    expect(items[0]?.factors).toHaveLength(5);
    expect((await call('GET', '/tenants/globex/classifications', t('acme'))).status).toBe(404);
    expect((await call('GET', '/tenants/nobody/classifications', t('operator'))).status).toBe(404);
    const bad = await call('GET', '/tenants/globex/classifications?limit=0', t('operator'));
    expect(bad.status).toBe(400);
    expect(bad.body.error?.details[0]?.path).toBe('/querystring/limit');
  });
});
