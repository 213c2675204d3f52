import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpApp } from '../../http/create-http-app.js';
import type { RegistryStore } from '../../registry/registry-store.js';
import { ManualClock } from '../../shared/clock.js';
import type { SqlDatabase } from '../../storage/sql-database.js';
import { RollupAggregator } from '../../telemetry/rollups/rollup-aggregator.js';
import { SqlRollupStore } from '../../telemetry/rollups/sql-rollup-store.js';
import { event } from '../../telemetry/rollups/test-support/rollup-fixtures.js';
import { memorySqlite } from '../../test-support/registry-fixtures.js';
import type { Principal } from '../principal.js';
import { metricsRoutes } from './metrics-routes.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0);
const MIN = 60_000;
const TENANTS = new Set(['alpha', 'beta']);
const PRINCIPALS: Record<string, Principal> = {
  operator: { actor: 'token:op', role: 'operator', tenantId: null },
  viewer: { actor: 'token:view', role: 'viewer', tenantId: null },
  alpha: { actor: 'token:alpha', role: 'tenant_contact', tenantId: 'alpha' },
};

let db: SqlDatabase;
let app: HttpApp;
const clock = new ManualClock(T0 + 10 * MIN);

async function get(url: string, who = 'operator') {
  const r = await app.inject({ method: 'GET', url: `/admin/v1${url}`, headers: { 'x-test-principal': who } });
  return { status: r.statusCode, body: JSON.parse(r.body) };
}

beforeAll(async () => {
  db = await memorySqlite();
  const rollups = new SqlRollupStore(db);
  const agg = new RollupAggregator(rollups, clock, { writerId: 'w', flushIntervalMs: 3_600_000 });
  const canary = { versionId: 'v2', cohort: 'canary' as const };
  agg.observe(
    [
      event({ atMs: T0, latencyMs: 100, toolCallsChecked: 2, toolCallsInvalid: 1, invalidKinds: ['type'] }),
      event({ atMs: T0 + 1000, latencyMs: 300, status: 503, errorType: 'upstream_503' }),
      event({ atMs: T0 + 6 * MIN, latencyMs: 200 }),
      event({ ...canary, atMs: T0 + 2 * MIN, latencyMs: 900 }),
      event({ tenantId: 'beta', atMs: T0, latencyMs: 50 }),
    ],
    true,
  );
  await agg.close();
  const store = {
    get: async (_kind: string, id: string) => (TENANTS.has(id) ? { id } : undefined),
  } as unknown as Pick<RegistryStore, 'get'>;
  app = await createHttpApp({ logger: pino({ level: 'silent' }), bodyLimitBytes: 65536 });
  const admin: FastifyPluginAsyncTypebox = async (scope) => {
    scope.addHook('onRequest', async (req) => {
      req.principal = PRINCIPALS[String(req.headers['x-test-principal'])];
    });
    await scope.register(metricsRoutes({ rollups, store, clock }));
  };
  await app.register(admin, { prefix: '/admin/v1' });
  await app.ready();
});

afterAll(async () => {
  await app.close();
  await db.close();
});

describe('GET /admin/v1/tenants/:tenantId/metrics', () => {
  it('returns per-step series per version and cohort, with rates and merged quantiles', async () => {
    const r = await get(
      `/tenants/alpha/metrics?from=${new Date(T0).toISOString()}&to=${new Date(T0 + 10 * MIN).toISOString()}&step=5m`,
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ tenantId: 'alpha', stepSeconds: 300 });
    const stable = r.body.series.find((s: { cohort: string }) => s.cohort === 'stable');
    expect(stable.versionId).toBe('v1');
    expect(stable.points.map((p: { start: string; requests: number }) => [p.start, p.requests])).toEqual([
      [new Date(T0).toISOString(), 2],
      [new Date(T0 + 5 * MIN).toISOString(), 1],
    ]);
    const first = stable.points[0];
    expect(first).toMatchObject({
      errors: 1,
      errorRate: 0.5,
      toolCalls: { checked: 2, invalid: 1, invalidRate: 0.5, invalidKinds: { type: 1 } },
    });
    expect(first.latencyMs.count).toBe(2);
    // Two requests (100 and 300 ms): the median is the lower one, within the sketch accuracy.
    expect(Math.abs(first.latencyMs.p50 - 100) / 100).toBeLessThanOrEqual(0.01 + 1e-9);
    expect(first.tasks.failureRate).toBeNull();
  });

  it('filters by cohort and version, and defaults to the last hour at one-minute steps', async () => {
    const r = await get('/tenants/alpha/metrics?cohort=canary');
    expect(r.status).toBe(200);
    expect(r.body.from).toBe(new Date(T0 + 10 * MIN - 60 * MIN).toISOString());
    expect(r.body.stepSeconds).toBe(60);
    expect(r.body.series).toHaveLength(1);
    expect(r.body.series[0]).toMatchObject({ versionId: 'v2', cohort: 'canary', points: [{ requests: 1 }] });
    expect((await get('/tenants/alpha/metrics?version=v9')).body.series).toEqual([]);
  });

  it("shows a tenant contact only its own tenant: another tenant's metrics are a 404", async () => {
    expect((await get('/tenants/alpha/metrics', 'alpha')).status).toBe(200);
    const other = await get('/tenants/beta/metrics', 'alpha');
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('not_found');
    expect(JSON.stringify(other.body)).not.toContain('requests');
    const viewer = await get('/tenants/beta/metrics', 'viewer');
    expect(viewer.status).toBe(200);
    expect(viewer.body.series[0].points[0].requests).toBe(1);
  });

  it('answers 404 for an unknown tenant and 401 without a principal', async () => {
    expect((await get('/tenants/nobody/metrics')).status).toBe(404);
    expect((await get('/tenants/alpha/metrics', 'nobody')).status).toBe(401);
  });

  it.each([
    ['an unknown parameter', '?colour=red', '/querystring'],
    ['a bad cohort', '?cohort=blue', '/querystring/cohort'],
    ['a bad step', '?step=5s', '/querystring/step'],
    ['a time that is not a date', '?from=yesterday', '/querystring/from'],
    ['a time within a minute', `?from=${new Date(T0 + 1000).toISOString()}`, '/querystring/from'],
    [
      'from after to',
      `?from=${new Date(T0 + 20 * MIN).toISOString()}&to=${new Date(T0).toISOString()}`,
      '/querystring/from',
    ],
    [
      'a window over seven days',
      `?from=2025-12-01T00:00:00Z&to=${new Date(T0).toISOString()}&step=1d`,
      '/querystring/from',
    ],
    [
      'too many points',
      `?from=2025-12-30T00:00:00Z&to=${new Date(T0).toISOString()}&step=1m`,
      '/querystring/step',
    ],
  ])('rejects %s with invalid_input', async (_name, query, path) => {
    const r = await get(`/tenants/alpha/metrics${query}`);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_input');
    expect(r.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  });

  it('is described in the OpenAPI document', async () => {
    const doc = app.swagger() as { paths: Record<string, { get?: { parameters?: { name: string }[] } }> };
    const op = doc.paths['/admin/v1/tenants/{tenantId}/metrics']?.get;
    expect(op?.parameters?.map((p) => p.name)).toEqual(
      expect.arrayContaining(['tenantId', 'from', 'to', 'channel', 'version', 'cohort', 'step']),
    );
  });
});
