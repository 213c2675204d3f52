import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareResponses } from '../../contracts/drift-compare.js';
import { DriftTracker } from '../../gateway/drift/drift-tracker.js';
import { createHttpApp, type HttpApp } from '../../http/create-http-app.js';
import type { SqliteDatabase } from '../../storage/sqlite-database.js';
import { memorySqlite, registryOver } from '../../test-support/registry-fixtures.js';
import { adminApi } from '../admin-api.js';
import { AdminAuth } from '../admin-auth.js';

let http: HttpApp;
let db: SqliteDatabase;
const tokens: Record<string, string> = {};

const call = (name: string, args: unknown) => ({ name, argumentsText: JSON.stringify(args) });

beforeAll(async () => {
  db = (await memorySqlite()) as SqliteDatabase;
  const { store, registry } = await registryOver(db);
  const ctx = { actor: 'test' };
  for (const id of ['acme', 'globex']) await registry.createTenant(ctx, { id, name: id });
  tokens.operator = (await registry.createAdminToken(ctx, { name: 'op', role: 'operator' })).secret;
  tokens.acme = (
    await registry.createAdminToken(ctx, { name: 'a', role: 'tenant_contact', tenantId: 'acme' })
  ).secret;
  const drift = new DriftTracker(null, { flushIntervalMs: 1000, now: () => 1000, onError: () => {} });
  for (const tenant of ['acme', 'globex']) {
    drift.recordPair(
      tenant,
      'gpt',
      'gpt-1',
      'gpt-2',
      compareResponses(
        { toolCalls: [call('get_forecast', { city: 'Lisbon', days: 3 })] },
        { toolCalls: [call('get_forecast', { town: 'Lisbon', days: 3 })] },
      ),
    );
  }
  http = await createHttpApp({ logger: pino({ level: 'silent' }), bodyLimitBytes: 64 * 1024 });
  await http.register(
    adminApi({ registry, store, auth: new AdminAuth(store, registry), status: async () => ({}), drift }),
    {
      prefix: '/admin/v1',
    },
  );
  await http.ready();
});

afterAll(async () => {
  await http?.close();
  await db?.close();
});

const get = (url: string, token: string | undefined) =>
  http.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('GET /admin/v1/tenants/:tenantId/drift', () => {
  it('gives the tenant its drift profiles with rates and the cohort report', async () => {
    const r = await get('/admin/v1/tenants/acme/drift', tokens.acme);
    expect(r.statusCode).toBe(200);
    const { items } = r.json() as {
      items: Array<Record<string, unknown> & { profile: { tenantId: string } }>;
    };
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      channel: 'gpt',
      stableVersionId: 'gpt-1',
      candidateVersionId: 'gpt-2',
      profile: { tenantId: 'acme', pairs: 1, pairsWithDrift: 1, kinds: { field_renamed: 1 } },
      rates: { pairs: 1, drift: 1 },
      cohorts: { sufficient: false },
    });
  });

  it('answers a tenant contact about another tenant with 404, as if it did not exist', async () => {
    const other = await get('/admin/v1/tenants/globex/drift', tokens.acme);
    const missing = await get('/admin/v1/tenants/nobody/drift', tokens.operator);
    expect(other.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect((other.json() as { error: { code: string } }).error.code).toBe(
      (missing.json() as { error: { code: string } }).error.code,
    );
  });

  it('lets platform roles read any tenant, and nobody without a token', async () => {
    expect((await get('/admin/v1/tenants/globex/drift', tokens.operator)).statusCode).toBe(200);
    expect((await get('/admin/v1/tenants/acme/drift', undefined)).statusCode).toBe(401);
  });
});
