import { readdirSync, readFileSync } from 'node:fs';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminApi } from '../admin/admin-api.js';
import { AdminAuth } from '../admin/admin-auth.js';
import { SqlBetsStore } from '../bets/sql-bets-store.js';
import { createHttpApp, type HttpApp } from '../http/create-http-app.js';
import type { RegistryService } from '../registry/registry-service.js';
import type { SqlRegistryStore } from '../registry/sql-registry-store.js';
import { SqlIncidentStore } from '../rollout/incident.js';
import type { TenantRollout } from '../rollout/rollout-types.js';
import { SqlRolloutStore } from '../rollout/sql-rollout-store.js';
import { UpgradeService } from '../rollout/upgrade-service.js';
import type { ManualClock } from '../shared/clock.js';
import type { SqlDatabase } from '../storage/sql-database.js';
import { SqlRollupStore } from '../telemetry/rollups/sql-rollup-store.js';
import { memorySqlite, registryOver, SYSTEM, seedModels } from '../test-support/registry-fixtures.js';
import { DASHBOARD_CSP, dashboardPlugin } from './dashboard-plugin.js';
import { type FleetSources, type FleetView, FleetViews, type TenantDetail } from './fleet-view.js';
import { writeSyntheticRollups } from './test-support/synthetic-rollups.js';

let db: SqlDatabase;
let store: SqlRegistryStore;
let registry: RegistryService;
let clock: ManualClock;
let rollouts: SqlRolloutStore;
let rollups: SqlRollupStore;
let http: HttpApp;
const tokens: Record<string, string> = {};

const ASSETS = new URL('./assets/', import.meta.url);

async function tenant(id: string, group = 'standard', criticality: 'low' | 'medium' | 'high' = 'medium') {
  await registry.createTenant(SYSTEM, {
    id,
    name: `Tenant ${id}`,
    rolloutGroup: group,
    riskProfile: { criticality },
  });
  await registry.bindChannel(SYSTEM, id, { channel: 'gpt-x', stableVersionId: 'gpt-x-2026-01' });
}

async function get(url: string, token?: string, headers: Record<string, string> = {}) {
  const r = await http.inject({
    method: 'GET',
    url,
    headers: { ...(token ? { authorization: `Bearer ${tokens[token] ?? token}` } : {}), ...headers },
  });
  const json = String(r.headers['content-type'] ?? '').startsWith('application/json');
  return {
    status: r.statusCode,
    headers: r.headers,
    text: r.body,
    body: json && r.body ? JSON.parse(r.body) : null,
  };
}

async function post(url: string, token: string, body: unknown) {
  const r = await http.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${tokens[token]}`, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
  return { status: r.statusCode, body: JSON.parse(r.body) };
}

const fleet = async (token: string) => (await get('/dashboard/api/fleet', token)).body as FleetView;

async function startUpgrade(tenants?: string[]): Promise<string> {
  const r = await post('/admin/v1/upgrades', 'operator', {
    channel: 'gpt-x',
    fromVersionId: 'gpt-x-2026-01',
    toVersionId: 'gpt-x-2026-03',
    ...(tenants ? { tenants } : {}),
  });
  expect(r.status).toBe(201);
  return r.body.upgrade.id;
}

/** Moves a tenant's rollout as the controller would have (tests of the view, not of the controller). */
async function setRollout(upgradeId: string, tenantId: string, patch: Partial<TenantRollout>) {
  const [r] = await rollouts.listRollouts({ upgradeId, tenantId });
  if (!r) throw new Error(`no rollout for ${tenantId}`);
  expect(await rollouts.updateRollout({ ...r, ...patch, version: r.version + 1 }, r.version)).toBe(true);
}

beforeEach(async () => {
  db = await memorySqlite();
  ({ store, registry, clock } = await registryOver(db));
  await seedModels(registry);
  for (const [id, group, crit] of [
    ['bank', 'conservative', 'high'],
    ['globex', 'standard', 'medium'],
    ['initech', 'pioneers', 'low'],
  ] as const)
    await tenant(id, group, crit);
  for (const [name, role, tenantId] of [
    ['operator', 'operator', undefined],
    ['approver', 'approver', undefined],
    ['viewer', 'viewer', undefined],
    ['bank', 'tenant_contact', 'bank'],
  ] as const) {
    tokens[name] = (
      await registry.createAdminToken(SYSTEM, { name, role, ...(tenantId ? { tenantId } : {}) })
    ).secret;
  }
  rollouts = new SqlRolloutStore(db);
  rollups = new SqlRollupStore(db);
  const auth = new AdminAuth(store, registry);
  http = await createHttpApp({ logger: pino({ level: 'silent' }), bodyLimitBytes: 64 * 1024 });
  await http.register(
    adminApi({
      registry,
      store,
      auth,
      status: async () => ({}),
      upgrades: {
        upgrades: new UpgradeService({ rollouts, registry: store, clock }),
        incidents: new SqlIncidentStore(db),
      },
    }),
    { prefix: '/admin/v1' },
  );
  await http.register(
    dashboardPlugin({ auth, store, rollouts, bets: new SqlBetsStore(db), rollups, clock }),
    { prefix: '/dashboard' },
  );
  await http.ready();
});

afterEach(async () => {
  await http.close();
  await db.close();
});

describe('the dashboard page', () => {
  it('serves the page as a folder, with a strict content security policy', async () => {
    const bare = await get('/dashboard');
    expect(bare.status).toBe(302);
    expect(bare.headers.location).toBe('/dashboard/');
    const page = await get('/dashboard/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(page.text).toContain('<script type="module" src="assets/app.js">');
  });

  it('serves every file the page and its modules refer to, and nothing else', async () => {
    const index = readFileSync(new URL('index.html', ASSETS), 'utf8');
    const referenced = new Set(
      [...index.matchAll(/(?:src|href)="assets\/([^"]+)"/g)].map((m) => m[1] as string),
    );
    for (const file of readdirSync(ASSETS).filter((f) => f.endsWith('.js'))) {
      const text = readFileSync(new URL(file, ASSETS), 'utf8');
      for (const m of text.matchAll(/from '\.\/([^']+)'/g)) referenced.add(m[1] as string);
    }
    expect(referenced.size).toBeGreaterThan(5);
    for (const file of referenced) {
      const r = await get(`/dashboard/assets/${file}`);
      expect(r.status, file).toBe(200);
      expect(r.headers['content-type'], file).toMatch(/^text\/(javascript|css)/);
      const again = await get(`/dashboard/assets/${file}`, undefined, {
        'if-none-match': String(r.headers.etag),
      });
      expect(again.status, file).toBe(304);
    }
    expect((await get('/dashboard/assets/nope.js')).status).toBe(404);
    expect((await get('/dashboard/assets/..%2Fdashboard-plugin.ts')).status).toBe(404);
  });
});

describe('the dashboard API', () => {
  it('takes admin tokens only, in the error envelope otherwise', async () => {
    const none = await get('/dashboard/api/fleet');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthenticated');
    expect((await get('/dashboard/api/fleet', 'not-a-token')).status).toBe(401);
    expect((await get('/dashboard/api/tenants/bank', 'not-a-token')).status).toBe(401);
    const viewer = await get('/dashboard/api/fleet', 'viewer');
    expect(viewer.status).toBe(200);
    expect(viewer.headers['cache-control']).toBe('no-store');
  });

  it('shows a tenant contact its own tenant only, and other tenants as missing', async () => {
    const id = await startUpgrade();
    const mine = await fleet('bank');
    expect(mine.rows.map((r) => r.tenantId)).toEqual(['bank']);
    expect(mine.totals.tenants).toBe(1);
    expect(mine.upgrades.map((u) => u.id)).toEqual([id]);
    expect(mine.upgrades[0]?.counts).toEqual({ pending: 1 });
    expect(JSON.stringify(mine)).not.toMatch(/globex|initech/);
    expect((await get('/dashboard/api/tenants/bank', 'bank')).status).toBe(200);
    const other = await get('/dashboard/api/tenants/globex', 'bank');
    const missing = await get('/dashboard/api/tenants/nobody', 'operator');
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe(missing.body.error.code);
    // The platform sees everyone.
    expect((await fleet('viewer')).rows.map((r) => r.tenantId)).toEqual(['bank', 'globex', 'initech']);
  });

  it('gives each tenant its rollout, the approvals waiting and who gave them', async () => {
    const id = await startUpgrade();
    await setRollout(id, 'bank', { phase: 'awaiting_approval', stage: 0 });
    await setRollout(id, 'globex', { phase: 'canary', stage: 1 });
    await setRollout(id, 'initech', {
      phase: 'blocked',
      reason: 'BETS verdict: fail (toolCall 0.80 < 0.90)',
    });
    let view = await fleet('operator');
    const row = (t: string) => view.rows.find((r) => r.tenantId === t);
    expect(row('globex')?.rollout).toMatchObject({
      phase: 'canary',
      stage: 2,
      stageCount: 4,
      stagePercent: 25,
    });
    expect(row('initech')?.rollout?.phase).toBe('blocked');
    expect(view.totals).toMatchObject({ awaitingApproval: 1, inCanary: 1, blocked: 1, rollingBack: 0 });
    expect(view.approvalsWaiting).toEqual([
      {
        tenantId: 'bank',
        upgradeId: id,
        channel: 'gpt-x',
        approval: { stage: 1, needs: ['platform', 'tenant'], given: [], missing: ['platform', 'tenant'] },
      },
    ]);
    expect(
      (await post(`/admin/v1/upgrades/${id}/approvals`, 'approver', { tenantId: 'bank', stage: 1 })).status,
    ).toBe(200);
    view = await fleet('bank');
    expect(view.approvalsWaiting[0]?.approval).toMatchObject({
      given: [{ party: 'platform', by: 'approver' }],
      missing: ['tenant'],
    });
  });

  it('computes health from rollouts and canary-vs-control traffic, weighted by criticality', async () => {
    const id = await startUpgrade();
    await setRollout(id, 'bank', {
      phase: 'rolling_back',
      rollbackStep: 'drain',
      reason: 'tool-call failures',
    });
    await setRollout(id, 'globex', { phase: 'canary', stage: 0 });
    const now = clock.now();
    await writeSyntheticRollups(
      rollups,
      [
        {
          tenantId: 'globex',
          channel: 'gpt-x',
          versionId: 'gpt-x-2026-03',
          cohort: 'canary',
          shape: () => ({ requests: 10, errorRate: 0.2 }),
        },
        {
          tenantId: 'globex',
          channel: 'gpt-x',
          versionId: 'gpt-x-2026-01',
          cohort: 'stable',
          shape: () => ({ requests: 90 }),
        },
      ],
      now - 10 * 60_000,
      now,
    );
    const view = await fleet('viewer');
    const globex = view.rows.find((r) => r.tenantId === 'globex');
    expect(globex?.metrics?.canary.requests).toBe(100);
    expect(globex?.metrics?.canary.errorRate).toBeCloseTo(0.2);
    expect(globex?.health.status).toBe('critical');
    expect(view.rows.find((r) => r.tenantId === 'bank')?.health.status).toBe('critical');
    expect(view.rows.find((r) => r.tenantId === 'initech')?.health.status).toBe('healthy');
    // bank (high, 4) and globex (medium, 2) critical, initech (low, 1) healthy: 100 × 1 / 7.
    expect(view.health).toMatchObject({ score: 14.3, weighted: 1, totalWeight: 7 });
    expect(view.health.counts).toEqual({ healthy: 1, degraded: 0, critical: 2 });
  });

  it('answers 304 while nothing changed, and a new revision once something did', async () => {
    const first = await get('/dashboard/api/fleet', 'viewer');
    const etag = String(first.headers.etag);
    expect(etag).toBe(`"${first.body.revision}"`);
    expect((await get('/dashboard/api/fleet', 'viewer', { 'if-none-match': etag })).status).toBe(304);
    await registry.updateTenant(SYSTEM, 'globex', { frozen: true });
    const after = await get('/dashboard/api/fleet', 'viewer', { 'if-none-match': etag });
    expect(after.status).toBe(200);
    expect(after.body.revision).not.toBe(first.body.revision);
  });

  it("moves a tenant contact's revision with its own tenant only", async () => {
    const id = await startUpgrade();
    const bank0 = (await fleet('bank')).revision;
    const platform0 = (await fleet('viewer')).revision;
    await registry.updateTenant(SYSTEM, 'globex', { frozen: true });
    await setRollout(id, 'globex', { phase: 'gating' });
    expect((await fleet('bank')).revision).toBe(bank0);
    expect((await fleet('viewer')).revision).not.toBe(platform0);
    await setRollout(id, 'bank', { phase: 'gating' });
    const bank1 = (await fleet('bank')).revision;
    expect(bank1).not.toBe(bank0);
    // The tenant page and the fleet agree on the contact's revision (the stream compares them).
    expect(((await get('/dashboard/api/tenants/bank', 'bank')).body as TenantDetail).revision).toBe(bank1);
  });

  it("gives a tenant's page its plan, rollouts with history, newest first", async () => {
    const id = await startUpgrade(['bank']);
    await post(`/admin/v1/upgrades/${id}/pause`, 'operator', { tenantId: 'bank', reason: 'holiday freeze' });
    const d = (await get('/dashboard/api/tenants/bank', 'bank')).body as TenantDetail;
    expect(d.tenant).toMatchObject({ id: 'bank', rolloutGroup: 'conservative' });
    expect(d.group?.plan.stages).toHaveLength(4);
    expect(d.bindings).toEqual([
      expect.objectContaining({ channel: 'gpt-x', stableVersionId: 'gpt-x-2026-01' }),
    ]);
    expect(d.rollouts).toHaveLength(1);
    expect(d.rollouts[0]?.rollout).toMatchObject({ phase: 'paused', resumePhase: 'pending' });
    expect(d.rollouts[0]?.events.map((e) => e.action)).toEqual(['pause']);
    expect(d.generatedAt).toBe(new Date(clock.now()).toISOString());
  });

  it('streams a revision event at once and another when what the caller sees changes', async () => {
    await http.close();
    const auth = new AdminAuth(store, registry);
    http = await createHttpApp({ logger: pino({ level: 'silent' }), bodyLimitBytes: 64 * 1024 });
    await http.register(dashboardPlugin({ auth, store, rollouts, clock, liveIntervalMs: 20 }), {
      prefix: '/dashboard',
    });
    const base = await http.listen({ host: '127.0.0.1', port: 0 });
    const unauth = await fetch(`${base}/dashboard/api/stream`);
    expect(unauth.status).toBe(401);
    const res = await fetch(`${base}/dashboard/api/stream`, {
      headers: { authorization: `Bearer ${tokens.viewer}` },
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    const nextRevision = async (): Promise<string> => {
      for (;;) {
        const m = /event: revision\ndata: (.*)\n\n/.exec(buffer);
        if (m) {
          buffer = buffer.slice((m.index ?? 0) + m[0].length);
          return JSON.parse(m[1] as string).revision;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += value;
      }
    };
    const first = await nextRevision();
    expect(first).toBe((await fleet('viewer')).revision);
    await registry.updateTenant(SYSTEM, 'initech', { frozen: true });
    const second = await nextRevision();
    expect(second).not.toBe(first);
    expect(second).toBe((await fleet('viewer')).revision);
    await reader.cancel();
  });
});

describe('the fleet view on 500 tenants', () => {
  it('returns every tenant in one response, with a number of reads that does not grow with the fleet', async () => {
    const ids = Array.from({ length: 500 }, (_, i) => `t${String(i).padStart(3, '0')}`);
    for (const id of ids)
      await tenant(id, ['pioneers', 'early', 'standard', 'conservative'][Number(id.slice(1)) % 4]);
    const id = await startUpgrade();
    await setRollout(id, 't007', { phase: 'shadow' });
    const r = await get('/dashboard/api/fleet', 'operator');
    expect(r.status).toBe(200);
    const view = r.body as FleetView;
    expect(view.rows).toHaveLength(503);
    expect(view.totals).toMatchObject({ tenants: 503, inShadow: 1 });
    expect(view.rows.filter((x) => x.rollout?.phase === 'pending')).toHaveLength(502);
    expect(view.rows.find((x) => x.tenantId === 't007')?.rollout?.phase).toBe('shadow');

    // Count the store reads behind one fleet view.
    const calls: string[] = [];
    const counted = <T extends object>(name: string, target: T): T =>
      new Proxy(target, {
        get(t, prop, receiver) {
          const v = Reflect.get(t, prop, receiver);
          return typeof v === 'function'
            ? (...args: unknown[]) => {
                calls.push(`${name}.${String(prop)}`);
                return v.apply(t, args);
              }
            : v;
        },
      });
    const sources: FleetSources = {
      store: counted('store', store),
      rollouts: counted('rollouts', rollouts),
      rollups: counted('rollups', rollups),
      clock,
    };
    const again = await new FleetViews(sources).fleet({ actor: 'test', role: 'viewer', tenantId: null });
    expect(again.rows).toHaveLength(503);
    expect(calls.length).toBeLessThanOrEqual(8);
    expect(calls.filter((c) => c === 'rollouts.listRollouts')).toHaveLength(1);
  });
});
