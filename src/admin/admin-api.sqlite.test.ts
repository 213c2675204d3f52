import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSwitchyard, type Switchyard } from '../app/compose.js';
import { validateConfig } from '../config/load-config.js';
import { WEATHER_TOOL } from '../test-support/registry-fixtures.js';

const OPERATOR = 'sya-test-operator-token-0123456789';
let app: Switchyard;

interface Res {
  status: number;
  body: Record<string, unknown> & {
    error?: {
      code: string;
      message: string;
      details: { path: string; message: string }[];
      hint?: string;
      requestId: string;
    };
  };
  headers: Record<string, unknown>;
}

async function call(
  method: string,
  url: string,
  opts: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Res> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? OPERATOR}`;
  let payload: string | undefined;
  if (opts.raw !== undefined) {
    payload = opts.raw;
    headers['content-type'] ??= 'application/json';
  } else if (opts.body !== undefined) {
    payload = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const r = await app.http.inject({
    method: method as 'GET',
    url: `/admin/v1${url}`,
    headers,
    ...(payload !== undefined ? { payload } : {}),
  });
  return {
    status: r.statusCode,
    body: r.body ? (JSON.parse(r.body) as Res['body']) : {},
    headers: r.headers,
  };
}

/** What a rejected request must leave untouched. */
async function fingerprint() {
  return JSON.stringify({ dump: await app.store.dump(), audit: await app.store.listAudit({ limit: 1000 }) });
}

async function tokenFor(role: string, tenantId?: string): Promise<string> {
  const r = await call('POST', '/tokens', {
    body: { name: `${role}-${tenantId ?? 'all'}`, role, ...(tenantId ? { tenantId } : {}) },
  });
  expect(r.status).toBe(201);
  return (r.body as { secret: string }).secret;
}

beforeAll(async () => {
  const config = validateConfig({
    server: { port: 0, bodyLimitBytes: 64 * 1024 },
    storage: { sqlitePath: ':memory:' },
    log: { level: 'silent' },
  });
  app = await createSwitchyard(config, { env: { SWITCHYARD_ADMIN_TOKEN: OPERATOR } });
  await app.http.ready();
  for (const id of ['gpt-x-2026-01', 'gpt-x-2026-03']) {
    expect(
      (
        await call('POST', '/models', {
          body: {
            id,
            channel: 'gpt-x',
            providerKind: 'openai-compatible',
            upstreamModel: id,
            endpoint: 'http://127.0.0.1:9/v1',
          },
        })
      ).status,
    ).toBe(201);
  }
  for (const id of ['alpha', 'beta']) {
    expect(
      (await call('POST', '/tenants', { body: { id, name: id.toUpperCase(), rolloutGroup: 'early' } }))
        .status,
    ).toBe(201);
    expect(
      (
        await call('POST', `/tenants/${id}/channels`, {
          body: { channel: 'gpt-x', stableVersionId: 'gpt-x-2026-01' },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await call('POST', `/tenants/${id}/contracts`, {
          body: { modelVersionId: 'gpt-x-2026-01', name: 'get_weather', definition: WEATHER_TOOL },
        })
      ).status,
    ).toBe(201);
    expect((await call('POST', `/tenants/${id}/keys`, { body: { label: 'prod' } })).status).toBe(201);
  }
});

afterAll(async () => {
  await app.close();
});

describe('admin API: authentication and documents', () => {
  it('requires a valid token and answers in the error envelope', async () => {
    for (const token of [null, 'sya-wrong']) {
      const r = await call('GET', '/tenants', { token });
      expect(r.status).toBe(401);
      expect(r.body.error).toMatchObject({
        code: 'unauthenticated',
        hint: expect.stringContaining('Bearer'),
      });
      expect(r.body.error?.requestId).toBe(r.headers['x-request-id']);
    }
  });

  it('serves an OpenAPI document describing the routes', async () => {
    const r = await call('GET', '/openapi.json', { token: null });
    expect(r.status).toBe(200);
    const paths = Object.keys((r.body as { paths: Record<string, unknown> }).paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/admin/v1/tenants',
        '/admin/v1/tenants/{id}',
        '/admin/v1/audit/{id}/revert',
        '/admin/v1/models',
      ]),
    );
  });

  it('never returns key or token hashes', async () => {
    const keys = await call('GET', '/tenants/alpha/keys');
    expect(JSON.stringify(keys.body)).not.toMatch(/keyHash|tokenHash/);
    const audit = await call('GET', '/audit?entityKind=api_key');
    expect((audit.body.items as unknown[]).length).toBeGreaterThan(0);
    expect(JSON.stringify(audit.body)).not.toMatch(/keyHash|tokenHash/);
    expect(JSON.stringify((await call('GET', '/tokens')).body)).not.toMatch(/tokenHash/);
  });
});

describe('admin API: bad input gets one envelope and changes nothing', () => {
  const cases: [string, () => Promise<Res>, number, string, string?][] = [
    [
      'malformed JSON',
      () => call('POST', '/tenants', { raw: '{"id": "x",' }),
      400,
      'malformed_json',
      '/body',
    ],
    [
      'an unknown field',
      () => call('POST', '/tenants', { body: { id: 'x', name: 'X', colour: 'red' } }),
      400,
      'invalid_input',
      '/body',
    ],
    [
      'a wrong type',
      () => call('POST', '/tenants', { body: { id: 'x', name: 'X', frozen: 'yes' } }),
      400,
      'invalid_input',
      '/body/frozen',
    ],
    [
      'a wrong enum value',
      () => call('POST', '/tenants', { body: { id: 'x', name: 'X', failurePolicy: 'retry' } }),
      400,
      'invalid_input',
      '/body/failurePolicy',
    ],
    [
      'a bad id',
      () => call('POST', '/tenants', { body: { id: 'Not Valid!', name: 'X' } }),
      400,
      'invalid_input',
      '/body/id',
    ],
    [
      'an invalid JSON Schema in a contract',
      () =>
        call('POST', '/tenants/alpha/contracts', {
          body: {
            modelVersionId: 'gpt-x-2026-01',
            name: 'bad',
            definition: { kind: 'tool', parameters: { type: 'object', required: 'city' } },
          },
        }),
      400,
      'invalid_input',
      '/body/definition/parameters/required',
    ],
    [
      'a duplicate id',
      () => call('POST', '/tenants', { body: { id: 'alpha', name: 'Again' } }),
      409,
      'already_exists',
    ],
    [
      'an oversized body',
      () => call('POST', '/tenants', { body: { id: 'big', name: 'x'.repeat(70 * 1024) } }),
      413,
      'body_too_large',
    ],
    [
      'a revert of an unknown change',
      () => call('POST', '/audit/chg_nope/revert', { body: {} }),
      404,
      'not_found',
    ],
    [
      'a stale version',
      () => call('PATCH', '/tenants/alpha', { body: { name: 'A2' }, headers: { 'if-match': '"999"' } }),
      409,
      'version_conflict',
    ],
    [
      'a malformed If-Match',
      () => call('PATCH', '/tenants/alpha', { body: { name: 'A2' }, headers: { 'if-match': 'abc' } }),
      400,
      'invalid_input',
      'if-match',
    ],
    [
      'a reference to a missing group',
      () => call('PATCH', '/tenants/alpha', { body: { rolloutGroup: 'gold' } }),
      400,
      'invalid_reference',
      '/body/rolloutGroup',
    ],
    ['an unknown tenant', () => call('POST', '/tenants/ghost/keys', { body: {} }), 404, 'not_found'],
    [
      'a wrong content type',
      () => call('POST', '/tenants', { raw: 'id=x', headers: { 'content-type': 'text/plain' } }),
      415,
      'unsupported_media_type',
    ],
    ['an unknown route', () => call('GET', '/nothing-here'), 404, 'route_not_found'],
  ];

  for (const [what, send, status, code, path] of cases) {
    it(`rejects ${what} with ${status} ${code}`, async () => {
      const before = await fingerprint();
      const r = await send();
      expect(r.status).toBe(status);
      expect(r.body.error?.code).toBe(code);
      expect(r.body.error?.message.length).toBeGreaterThan(5);
      expect(typeof r.body.error?.requestId).toBe('string');
      if (path) expect(r.body.error?.details.map((d) => d.path)).toContain(path);
      expect(JSON.stringify(r.body)).not.toMatch(/SQLITE|at \w+ \(|node_modules|SELECT |INSERT /);
      expect(await fingerprint()).toBe(before);
    });
  }
});

describe('admin API: versions, audit and revert', () => {
  it('returns an ETag and honours If-Match', async () => {
    const got = await call('GET', '/tenants/beta');
    const etag = String(got.headers.etag);
    const ok = await call('PATCH', '/tenants/beta', {
      body: { name: 'Beta Corp', reason: 'rename' },
      headers: { 'if-match': etag },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.name).toBe('Beta Corp');
    const again = await call('PATCH', '/tenants/beta', {
      body: { name: 'Beta 3' },
      headers: { 'if-match': etag },
    });
    expect(again.status).toBe(409);
  });

  it('reverts a change by id and audits the revert', async () => {
    const frozen = await call('PATCH', '/tenants/alpha', { body: { frozen: true, reason: 'incident 42' } });
    expect(frozen.body.frozen).toBe(true);
    const log = await call('GET', '/audit?tenantId=alpha&entityKind=tenant&limit=1');
    const entry = (log.body.items as { id: string; action: string; reason: string }[])[0];
    expect(entry).toMatchObject({ action: 'tenant.freeze', reason: 'incident 42' });
    const rev = await call('POST', `/audit/${entry?.id}/revert`, { body: { reason: 'resolved' } });
    expect(rev.status).toBe(201);
    expect(rev.body).toMatchObject({ action: 'revert', revertsId: entry?.id, reason: 'resolved' });
    expect((await call('GET', '/tenants/alpha')).body.frozen).toBe(false);
  });
});

describe('admin API: roles and tenant isolation', () => {
  it('lets a viewer read but not write, and an approver not write', async () => {
    const viewer = await tokenFor('viewer');
    expect((await call('GET', '/tenants', { token: viewer })).status).toBe(200);
    const denied = await call('POST', '/tenants', { token: viewer, body: { id: 'v', name: 'V' } });
    expect(denied.status).toBe(403);
    expect(denied.body.error?.code).toBe('forbidden');
    const approver = await tokenFor('approver');
    expect((await call('PATCH', '/tenants/alpha', { token: approver, body: { name: 'no' } })).status).toBe(
      403,
    );
    expect((await call('GET', '/tokens', { token: viewer })).status).toBe(403);
  });

  it('gives a tenant contact 404 for everything of another tenant', async () => {
    const alpha = await tokenFor('tenant_contact', 'alpha');
    const betaKeys = await call('GET', '/tenants/beta/keys');
    const betaKeyId = (betaKeys.body.items as { id: string }[])[0]?.id;
    const betaAudit = (await call('GET', '/audit?tenantId=beta&limit=1')).body.items as { id: string }[];
    const before = await fingerprint();
    const attempts: [string, string, unknown?][] = [
      ['GET', '/tenants/beta'],
      ['PATCH', '/tenants/beta', { name: 'pwned' }],
      ['DELETE', '/tenants/beta'],
      ['GET', '/tenants/beta/keys'],
      ['POST', '/tenants/beta/keys', {}],
      ['DELETE', `/tenants/beta/keys/${betaKeyId}`],
      ['POST', `/tenants/beta/keys/${betaKeyId}/rotate`, {}],
      ['GET', '/tenants/beta/channels'],
      ['GET', '/tenants/beta/channels/gpt-x'],
      ['PATCH', '/tenants/beta/channels/gpt-x', { canaryPercent: 50 }],
      ['GET', '/tenants/beta/contracts'],
      ['GET', '/tenants/beta/contracts/beta:gpt-x-2026-01:get_weather'],
      ['GET', '/audit?tenantId=beta'],
      ['GET', `/audit/${betaAudit[0]?.id}`],
    ];
    for (const [method, url, body] of attempts) {
      const r = await call(method, url, { token: alpha, ...(body !== undefined ? { body } : {}) });
      expect([method, url, r.status]).toEqual([method, url, 404]);
      expect(r.body.error?.code).toBe('not_found');
    }
    // Own-key actions on the other tenant's key id through their own tenant path also find nothing.
    expect((await call('DELETE', `/tenants/alpha/keys/${betaKeyId}`, { token: alpha })).status).toBe(404);
    expect(await fingerprint()).toBe(before);

    const list = await call('GET', '/tenants', { token: alpha });
    expect((list.body.items as { id: string }[]).map((t) => t.id)).toEqual(['alpha']);
    const audit = await call('GET', '/audit?limit=500', { token: alpha });
    expect((audit.body.items as { tenantId: string }[]).every((e) => e.tenantId === 'alpha')).toBe(true);
  });

  it('lets a tenant contact declare sensitivity and manage keys of its own tenant only', async () => {
    const alpha = await tokenFor('tenant_contact', 'alpha');
    const ok = await call('PATCH', '/tenants/alpha', {
      token: alpha,
      body: { riskProfile: { declaredSensitivity: 'high' } },
    });
    expect(ok.status).toBe(200);
    expect((ok.body.riskProfile as { declaredSensitivity: string }).declaredSensitivity).toBe('high');
    expect((await call('PATCH', '/tenants/alpha', { token: alpha, body: { frozen: true } })).status).toBe(
      403,
    );
    expect(
      (await call('PATCH', '/tenants/alpha', { token: alpha, body: { riskProfile: { criticality: 'low' } } }))
        .status,
    ).toBe(403);
    const key = await call('POST', '/tenants/alpha/keys', { token: alpha, body: { label: 'ci' } });
    expect(key.status).toBe(201);
    expect((key.body as { secret: string }).secret).toMatch(/^sy-/);
    expect(
      (
        await call('POST', '/models', {
          token: alpha,
          body: {
            id: 'm',
            channel: 'c',
            providerKind: 'anthropic',
            upstreamModel: 'm',
            endpoint: 'http://x',
          },
        })
      ).status,
    ).toBe(403);
    expect((await call('GET', '/tokens', { token: alpha })).status).toBe(403);
  });
});

describe('admin API: deletes', () => {
  it('records the reason a DELETE body gives, and rejects anything else in it', async () => {
    const created = await call('POST', '/tenants/beta/contracts', {
      body: { modelVersionId: 'gpt-x-2026-03', name: 'lookup', definition: WEATHER_TOOL },
    });
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    const bad = await call('DELETE', `/tenants/beta/contracts/${id}`, { body: { reason: 'x', force: true } });
    expect(bad.status).toBe(400);
    const ok = await call('DELETE', `/tenants/beta/contracts/${id}`, { body: { reason: 'not needed' } });
    expect(ok.status).toBe(200);
    const [entry] = (await call('GET', `/audit?entityId=${id}&limit=1`)).body.items as {
      op: string;
      reason: string;
    }[];
    expect(entry).toMatchObject({ op: 'delete', reason: 'not needed' });
  });
});
