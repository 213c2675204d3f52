import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpApp } from '../../http/create-http-app.js';
import type { RegistryService } from '../../registry/registry-service.js';
import type { SqlRegistryStore } from '../../registry/sql-registry-store.js';
import { buildIncidentReport, SqlIncidentStore } from '../../rollout/incident.js';
import { SqlRolloutStore } from '../../rollout/sql-rollout-store.js';
import { seedPlans } from '../../rollout/test-support/controller-harness.js';
import { UpgradeService } from '../../rollout/upgrade-service.js';
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
let rollouts: SqlRolloutStore;
let incidents: SqlIncidentStore;
const tokens: Record<string, string> = {};

interface Res {
  status: number;
  headers: Record<string, unknown>;
  text: string;
  body: Record<string, unknown> & {
    error?: { code: string; details: { path: string }[]; requestId: string };
  };
}

async function call(method: 'GET' | 'POST', url: string, token: string, body?: unknown): Promise<Res> {
  const r = await http.inject({
    method,
    url: `/admin/v1${url}`,
    headers: {
      authorization: `Bearer ${tokens[token] ?? ''}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  const json = (r.headers['content-type'] ?? '').toString().startsWith('application/json');
  return {
    status: r.statusCode,
    headers: r.headers,
    text: r.body,
    body: json && r.body ? JSON.parse(r.body) : {},
  };
}

beforeEach(async () => {
  db = await memorySqlite();
  let clock: import('../../shared/clock.js').ManualClock;
  ({ store, registry, clock } = await registryOver(db));
  await seedModels(registry);
  await seedPlans(registry);
  for (const t of ['bank', 'globex']) {
    await seedTenant(registry, t);
    await registry.updateTenant(SYSTEM, t, { rolloutGroup: 'careful' });
  }
  for (const [name, role, tenantId] of [
    ['operator', 'operator', undefined],
    ['approver', 'approver', undefined],
    ['viewer', 'viewer', undefined],
    ['bank', 'tenant_contact', 'bank'],
    ['globex', 'tenant_contact', 'globex'],
  ] as const) {
    const { secret } = await registry.createAdminToken(SYSTEM, {
      name,
      role,
      ...(tenantId ? { tenantId } : {}),
    });
    tokens[name] = secret;
  }
  rollouts = new SqlRolloutStore(db);
  incidents = new SqlIncidentStore(db);
  http = await createHttpApp({ logger: pino({ level: 'silent' }), bodyLimitBytes: 64 * 1024 });
  await http.register(
    adminApi({
      registry,
      store,
      auth: new AdminAuth(store, registry),
      status: async () => ({}),
      upgrades: { upgrades: new UpgradeService({ rollouts, registry: store, clock }), incidents },
    }),
    { prefix: '/admin/v1' },
  );
  await http.ready();
});
afterEach(async () => {
  await http.close();
  await db.close();
});

const START = {
  channel: 'gpt-x',
  fromVersionId: 'gpt-x-2026-01',
  toVersionId: 'gpt-x-2026-03',
  reason: 'Q1',
};

describe('upgrade routes', () => {
  it('starts an upgrade for operators only, with every error in the envelope', async () => {
    expect((await call('POST', '/upgrades', 'viewer', START)).status).toBe(403);
    expect((await call('POST', '/upgrades', 'bank', START)).status).toBe(403);
    const bad = await call('POST', '/upgrades', 'operator', { ...START, toVersionId: 'nope', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe('invalid_input');
    const missing = await call('POST', '/upgrades', 'operator', { ...START, toVersionId: 'gpt-x-2099' });
    expect(missing.status).toBe(400);
    expect(missing.body.error?.details.map((d) => d.path)).toEqual(['/body/toVersionId']);
    const ok = await call('POST', '/upgrades', 'operator', START);
    expect(ok.status).toBe(201);
    expect((ok.body.rollouts as { tenantId: string }[]).map((r) => r.tenantId)).toEqual(['bank', 'globex']);
    const again = await call('POST', '/upgrades', 'operator', START);
    expect(again.body.error?.code).toBe('upgrade_in_progress');
  });

  it('lets an operator roll one tenant back, and nobody else', async () => {
    const id = ((await call('POST', '/upgrades', 'operator', START)).body.upgrade as { id: string }).id;
    const body = { tenantId: 'bank', reason: 'customer complaints' };
    expect((await call('POST', `/upgrades/${id}/rollback`, 'approver', body)).status).toBe(403);
    expect((await call('POST', `/upgrades/${id}/rollback`, 'bank', body)).status).toBe(403);
    expect((await call('POST', `/upgrades/${id}/rollback`, 'operator', { tenantId: 'bank' })).status).toBe(
      400,
    );
    const ok = await call('POST', `/upgrades/${id}/rollback`, 'operator', body);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ tenantId: 'bank', phase: 'rolling_back', rollbackStep: 'freeze' });
    expect(ok.body.reason).toMatch(/customer complaints/);
    const twice = await call('POST', `/upgrades/${id}/rollback`, 'operator', body);
    expect(twice.body.error?.code).toBe('invalid_state');
    const status = await call('GET', `/upgrades/${id}`, 'operator');
    const phases = (status.body.rollouts as { tenantId: string; phase: string }[]).map((r) => [
      r.tenantId,
      r.phase,
    ]);
    expect(phases).toEqual([
      ['bank', 'rolling_back'],
      ['globex', 'pending'],
    ]);
    // A query-string number is digits (the API does not coerce types); out of range is refused.
    expect((await call('GET', '/incidents?limit=5', 'operator')).status).toBe(200);
    expect((await call('GET', '/incidents?limit=0', 'operator')).status).toBe(400);
  });

  it('takes the platform approval from an approver and the tenant approval from that tenant only', async () => {
    const id = ((await call('POST', '/upgrades', 'operator', START)).body.upgrade as { id: string }).id;
    const approve = (token: string, tenantId: string, stage = 1) =>
      call('POST', `/upgrades/${id}/approvals`, token, { tenantId, stage });
    expect((await approve('operator', 'bank')).status).toBe(403);
    expect((await approve('viewer', 'bank')).status).toBe(403);
    const other = await approve('globex', 'bank');
    expect(other.status).toBe(404);
    expect(other.body.error?.code).toBe('not_found');
    const platform = await approve('approver', 'bank');
    expect(platform.status).toBe(200);
    const tenant = await approve('bank', 'bank');
    expect(tenant.body.approvals).toEqual([
      expect.objectContaining({ stage: 1, party: 'platform', by: 'approver' }),
      expect.objectContaining({ stage: 1, party: 'tenant', by: 'bank' }),
    ]);
    expect((await approve('bank', 'bank', 7)).body.error?.details.map((d) => d.path)).toEqual([
      '/body/stage',
    ]);
    const rejected = await call('POST', `/upgrades/${id}/rejections`, 'globex', {
      tenantId: 'globex',
      stage: 1,
      reason: 'not before our launch',
    });
    expect(rejected.body).toMatchObject({
      phase: 'rolling_back',
      reason: 'stage 1 rejected by globex (tenant): not before our launch',
    });
  });

  it('shows a tenant contact only its own rollout and incidents, as JSON, Markdown or HTML', async () => {
    const id = ((await call('POST', '/upgrades', 'operator', START)).body.upgrade as { id: string }).id;
    const mine = await call('GET', `/upgrades/${id}`, 'bank');
    expect((mine.body.rollouts as { tenantId: string }[]).map((r) => r.tenantId)).toEqual(['bank']);
    for (const t of ['bank', 'globex']) {
      await incidents.put(
        buildIncidentReport({
          id: `inc_${t}`,
          kind: 'rollback',
          upgradeId: id,
          rolloutId: `ro_${t}`,
          tenantId: t,
          channel: 'gpt-x',
          groupId: 'careful',
          candidateVersionId: 'gpt-x-2026-03',
          stableVersionId: 'gpt-x-2026-01',
          nowMs: Date.UTC(2026, 2, 2),
          reason: '<script>alert(1)</script>',
          stoppedAt: { phase: 'canary', stage: 1, canaryPercent: 5 },
          trigger: null,
          buckets: [],
          window: { fromMs: 0, toMs: 1 },
          latency: null,
          samples: [],
          sessionsCut: 2,
        }),
      );
    }
    const list = await call('GET', '/incidents', 'bank');
    expect((list.body.items as { id: string }[]).map((i) => i.id)).toEqual(['inc_bank']);
    expect((await call('GET', '/incidents?tenantId=globex', 'bank')).status).toBe(404);
    expect((await call('GET', '/incidents/inc_globex', 'bank')).status).toBe(404);
    expect(((await call('GET', '/incidents', 'viewer')).body.items as unknown[]).length).toBe(2);
    const md = await call('GET', '/incidents/inc_bank?format=md', 'bank');
    expect(md.headers['content-type']).toContain('text/markdown');
    expect(md.text).toContain('# Incident inc_bank: rollback of bank');
    const html = await call('GET', '/incidents/inc_bank?format=html', 'bank');
    expect(html.headers['content-type']).toContain('text/html');
    expect(html.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html.text).not.toContain('<script>');
    expect((await call('GET', '/incidents/inc_bank?format=pdf', 'bank')).status).toBe(400);
  });
});
