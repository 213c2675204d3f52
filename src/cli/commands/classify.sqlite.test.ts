import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi } from '../../admin/admin-api.js';
import { AdminAuth } from '../../admin/admin-auth.js';
import { createHttpApp, type HttpApp } from '../../http/create-http-app.js';
import type { SqlRegistryStore } from '../../registry/sql-registry-store.js';
import { ClassificationService } from '../../rollout/classification/classification-service.js';
import { SqlClassificationStore } from '../../rollout/classification/classification-store.js';
import type { SqlDatabase } from '../../storage/sql-database.js';
import {
  memorySqlite,
  registryOver,
  SYSTEM,
  seedModels,
  seedTenant,
} from '../../test-support/registry-fixtures.js';
import { EXIT } from '../exit-codes.js';

/** `switchyard classify` and `switchyard sensitivity` as child processes against a real server. */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
let db: SqlDatabase;
let store: SqlRegistryStore;
let http: HttpApp;
let url: string;
let operator: string;
let contact: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], token = operator): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env: { ...process.env, SWITCHYARD_URL: url, SWITCHYARD_TOKEN: token }, timeout: 50_000 },
      (err, stdout, stderr) => {
        done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  db = await memorySqlite();
  const r = await registryOver(db);
  store = r.store;
  await seedModels(r.registry);
  await seedTenant(r.registry, 'acme');
  await seedTenant(r.registry, 'globex');
  await r.registry.updateTenant(SYSTEM, 'globex', { riskProfile: { criticality: 'low' } });
  operator = (await r.registry.createAdminToken(SYSTEM, { name: 'op', role: 'operator' })).secret;
  contact = (
    await r.registry.createAdminToken(SYSTEM, { name: 'acme', role: 'tenant_contact', tenantId: 'acme' })
  ).secret;
  const service = new ClassificationService({
    registry: r.registry,
    store,
    records: new SqlClassificationStore(db),
    clock: r.clock,
  });
  http = await createHttpApp({ logger: pino({ level: 'silent' }), bodyLimitBytes: 64 * 1024 });
  await http.register(
    adminApi({
      registry: r.registry,
      store,
      auth: new AdminAuth(store, r.registry),
      status: async () => ({}),
      classification: { service, store },
    }),
    { prefix: '/admin/v1' },
  );
  url = await http.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await http?.close();
  await db?.close();
});

describe('switchyard classify / sensitivity', { timeout: 90_000 }, () => {
  it('dry runs, applies, declares, and refuses a bad command line', async () => {
    const [dry, usage, badLevel, declared] = await Promise.all([
      cli(['classify', 'globex']),
      cli(['classify', 'globex', '--all']),
      cli(['sensitivity', 'acme', 'extreme', '--reason', 'x']),
      cli(['sensitivity', 'acme', 'high', '--reason', 'health data now', '--json'], contact),
    ]);
    expect(dry.code, dry.stderr).toBe(EXIT.ok);
    expect(dry.stdout).toContain('standard -> pioneers');
    expect(dry.stdout).toContain('criticality is low: 0 points');
    expect(usage.code).toBe(EXIT.usage);
    expect(usage.stderr).toContain('give a tenant id or --all');
    expect(badLevel.code).toBe(EXIT.usage);
    expect(declared.code, declared.stderr).toBe(EXIT.ok);
    expect(JSON.parse(declared.stdout)).toMatchObject({
      tenant: { id: 'acme', riskProfile: { declaredSensitivity: 'high' } },
      classification: { groupId: 'standard' },
    });
    expect((await store.get('tenant', 'globex'))?.rolloutGroup).toBe('standard');

    const [denied, all] = await Promise.all([
      cli(['classify', 'acme', '--apply'], contact),
      cli(['classify', '--all', '--apply', '--reason', 'quarterly', '--json']),
    ]);
    expect(denied.code).toBe(EXIT.auth);
    expect(all.code, all.stderr).toBe(EXIT.ok);
    const run = JSON.parse(all.stdout) as {
      apply: boolean;
      moves: Array<{ tenantId: string; groupId: string }>;
    };
    expect(run.apply).toBe(true);
    expect(run.moves.map((m) => [m.tenantId, m.groupId])).toEqual([['globex', 'pioneers']]);
    expect((await store.get('tenant', 'globex'))?.rolloutGroup).toBe('pioneers');
  });
});
