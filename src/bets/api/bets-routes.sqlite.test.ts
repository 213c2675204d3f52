import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpApp } from '../../http/create-http-app.js';
import type { RunningSimulator } from '../../simulator/index.js';
import { memorySqlite } from '../../test-support/registry-fixtures.js';
import {
  type BetsEnv,
  betsEnv,
  betsHttpApp,
  bfclSlice,
  SIMPLE,
  seedTenant,
  startSim,
} from '../test-support/bets-fixtures.js';

/** The BETS admin routes over HTTP (inject), with real authentication and a simulator. */

let sim: RunningSimulator;
let env: BetsEnv;
let app: HttpApp;
const TOKENS = {
  operator: 'sya-operator-0123456789abcdef',
  viewer: 'sya-viewer-0123456789abcdef',
  betaContact: 'sya-beta-0123456789abcdef',
};

interface Res {
  status: number;
  body: Record<string, unknown> & {
    error?: { code: string; message: string; details: { path: string; message: string }[] };
  };
  text: string;
  headers: Record<string, unknown>;
}

async function call(
  method: string,
  url: string,
  body?: unknown,
  opts: { token?: string; ifMatch?: number } = {},
): Promise<Res> {
  const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? TOKENS.operator}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (opts.ifMatch !== undefined) headers['if-match'] = `"${opts.ifMatch}"`;
  const r = await app.inject({
    method: method as 'GET',
    url: `/admin/v1${url}`,
    headers,
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  let parsed: Res['body'] = {};
  try {
    parsed = JSON.parse(r.body) as Res['body'];
  } catch {
    parsed = {};
  }
  return { status: r.statusCode, body: parsed, text: r.body, headers: r.headers };
}

beforeAll(async () => {
  sim = await startSim({});
  env = await betsEnv(await memorySqlite(), sim);
  for (const t of ['acme', 'beta']) await seedTenant(env.registry, t);
  const ctx = { actor: 'test' };
  await env.registry.importAdminToken(ctx, { name: 'op', role: 'operator' }, TOKENS.operator);
  await env.registry.importAdminToken(ctx, { name: 'viewer', role: 'viewer' }, TOKENS.viewer);
  await env.registry.importAdminToken(
    ctx,
    { name: 'beta', role: 'tenant_contact', tenantId: 'beta' },
    TOKENS.betaContact,
  );
  app = await betsHttpApp(env);
});

afterAll(async () => {
  await app.close();
  await env.close();
  await sim.close();
});

describe('suites over the API', () => {
  it('creates, lists and shows a suite; refuses duplicates and a judge of the upgraded channel', async () => {
    const created = await call('POST', '/tenants/acme/suites', {
      workflow: 'orders',
      channel: 'gpt-x',
      config: { k: 1 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'acme:orders',
      version: 1,
      caseCount: 0,
      config: { k: 1, passRule: 'majority' },
      staleness: { stale: false },
    });
    expect(
      (await call('POST', '/tenants/acme/suites', { workflow: 'orders', channel: 'gpt-x' })).body.error?.code,
    ).toBe('already_exists');
    const judge = await call('POST', '/tenants/acme/suites', {
      workflow: 'j',
      channel: 'gpt-x',
      config: { judgeVersionId: 'gpt-x-03' },
    });
    expect(judge.status).toBe(400);
    expect(judge.body.error).toMatchObject({
      code: 'invalid_judge',
      message: expect.stringMatching(/channel being upgraded/),
    });
    expect((await call('GET', '/tenants/acme/suites')).body.items).toHaveLength(1);
  });

  it('imports BFCL cases as one new version; an invalid case refuses the import unless skipInvalid', async () => {
    const { cases, answers } = bfclSlice(SIMPLE, 6);
    const ok = await call('POST', '/tenants/acme/suites/orders/import', { format: 'bfcl', cases, answers });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ imported: 6, rejected: [], suite: { version: 2, caseCount: 6 } });

    const yaml = [
      '- vars: { prompt: "Track order 12" }',
      '  assert: [{ type: contains, value: "12" }]',
      '- vars: { prompt: "x" }',
      '  assert: [{ type: regex, value: "([a-z" }]',
      '- vars: { prompt: "y" }',
      '  assert: [{ type: javascript, value: "true" }]',
    ].join('\n');
    const refused = await call('POST', '/tenants/acme/suites/orders/import', {
      format: 'promptfoo',
      tests: yaml,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error?.code).toBe('invalid_case');
    expect(refused.body.error?.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: '/cases/1/assertions/0/pattern',
          message: expect.stringMatching(/^case 'pf-2': Invalid regular expression/),
        }),
        expect.objectContaining({
          path: '/cases/2',
          message: expect.stringMatching(/case 'pf-3': assert type 'javascript'/),
        }),
      ]),
    );
    expect((await call('GET', '/tenants/acme/suites/orders')).body.version).toBe(2);
    const partial = await call('POST', '/tenants/acme/suites/orders/import', {
      format: 'promptfoo',
      tests: yaml,
      skipInvalid: true,
    });
    expect(partial.body).toMatchObject({ imported: 1, suite: { version: 3, caseCount: 7 } });
    expect((partial.body.rejected as unknown[]).length).toBe(2);
  });

  it('edits cases under If-Match, with the old version still readable', async () => {
    const spec = {
      id: 'manual-1',
      input: { messages: [{ role: 'user', content: 'Say OK' }], tools: [] },
      assertions: [{ kind: 'format', check: 'regex', pattern: '^OK' }],
    };
    const stale = await call('PUT', '/tenants/acme/suites/orders/cases/manual-1', spec, { ifMatch: 1 });
    expect(stale.body.error?.code).toBe('version_conflict');
    const bad = await call('PUT', '/tenants/acme/suites/orders/cases/manual-1', {
      ...spec,
      assertions: [{ kind: 'tool_call', tool: 'ghost' }],
    });
    expect(bad.body.error).toMatchObject({ code: 'invalid_case' });
    expect(bad.body.error?.details[0]?.path).toBe('/body/assertions/0');
    const put = await call('PUT', '/tenants/acme/suites/orders/cases/manual-1', spec, { ifMatch: 3 });
    expect(put.body).toMatchObject({ version: 4, caseCount: 8 });
    const del = await call('DELETE', '/tenants/acme/suites/orders/cases/manual-1');
    expect(del.body).toMatchObject({ version: 5, caseCount: 7 });
    const v4 = await call('GET', '/tenants/acme/suites/orders/cases?version=4');
    expect((v4.body.items as { id: string }[]).map((c) => c.id)).toContain('manual-1');
    expect((await call('DELETE', '/tenants/acme/suites/orders/cases/nope')).status).toBe(404);
  });

  it('exports a suite that imports back into the same content', async () => {
    const file = await call('GET', '/tenants/acme/suites/orders/export');
    expect(file.body).toMatchObject({ format: 'switchyard.bets-suite', suiteVersion: 5, workflow: 'orders' });
    const imported = await call('POST', '/tenants/acme/suites/copy/import', {
      format: 'suite',
      file: file.body,
    });
    expect(imported.body).toMatchObject({ imported: 7, suite: { id: 'acme:copy', channel: 'gpt-x' } });
    const again = await call('GET', '/tenants/acme/suites/copy/export');
    const strip = (f: Record<string, unknown>) => ({
      ...f,
      workflow: undefined,
      exportedAt: undefined,
      suiteVersion: undefined,
      name: undefined,
    });
    expect(strip(again.body)).toEqual(strip(file.body));
  });

  it('flags a suite as stale once its golden answers are older than the configured period', async () => {
    env.env.clock.advance(92 * 86_400_000);
    const s = await call('GET', '/tenants/acme/suites/orders');
    expect(s.body.staleness).toMatchObject({ stale: true, staleAfterDays: 91, staleCases: 7 });
    env.env.clock.advance(-92 * 86_400_000);
  });
});

describe('runs over the API', () => {
  let runId = '';

  it('starts a run, shows its progress, and reports it as JSON, Markdown and JUnit', async () => {
    const started = await call('POST', '/tenants/acme/suites/orders/runs', { k: 1 });
    expect(started.status).toBe(202);
    runId = String(started.body.id);
    await env.bets.runs.settled(runId);
    const run = await call('GET', `/tenants/acme/bets/runs/${runId}`);
    expect(run.body).toMatchObject({
      status: 'completed',
      candidateVersionId: 'gpt-x-03',
      upgradeId: 'upg-1',
      progress: { candidateDone: 7, candidateTotal: 7 },
    });
    expect(run.body).not.toHaveProperty('runner');
    const json = await call('GET', `/tenants/acme/bets/runs/${runId}/report`);
    expect(json.body).toMatchObject({ summary: { outcome: expect.any(String) }, run: { id: runId } });
    const md = await call('GET', `/tenants/acme/bets/runs/${runId}/report?format=markdown`);
    expect(md.headers['content-type']).toMatch(/text\/markdown/);
    expect(md.text).toMatch(/^# BETS run run_\w+: (PASS|FAIL)/);
    const junit = await call('GET', `/tenants/acme/bets/runs/${runId}/report?format=junit`);
    expect(junit.headers['content-type']).toMatch(/application\/xml/);
    expect(junit.text).toMatch(/<testsuites name="switchyard-bets" tests="7"/);
    expect((junit.text.match(/<testcase /g) ?? []).length).toBe(7);
    expect((await call('GET', '/tenants/acme/bets/verdicts')).body.items).toHaveLength(1);
    expect((await call('GET', '/tenants/acme/bets/runs')).body.items).toHaveLength(1);
  });

  it("hides another tenant's suites and runs behind the same 404, and keeps viewers read-only", async () => {
    const asBeta = { token: TOKENS.betaContact };
    for (const url of [
      '/tenants/acme/suites',
      '/tenants/acme/suites/orders',
      `/tenants/acme/bets/runs/${runId}`,
      `/tenants/acme/bets/runs/${runId}/report`,
    ]) {
      const r = await call('GET', url, undefined, asBeta);
      expect([url, r.status, r.body.error?.code]).toEqual([url, 404, 'not_found']);
    }
    expect((await call('GET', `/tenants/beta/bets/runs/${runId}`, undefined, asBeta)).status).toBe(404);
    expect((await call('GET', '/tenants/beta/suites', undefined, asBeta)).status).toBe(200);
    expect((await call('POST', '/bets/fleet-runs', { channel: 'gpt-x' }, asBeta)).status).toBe(403);
    const viewer = await call(
      'POST',
      '/tenants/acme/suites',
      { workflow: 'v', channel: 'gpt-x' },
      { token: TOKENS.viewer },
    );
    expect(viewer.body.error?.code).toBe('forbidden');
  });
});

describe('capture and refresh over the API', () => {
  it('captures opted-in traffic redacted, proposes consistent replays, and adds approved ones as cases', async () => {
    await call('POST', '/tenants/beta/suites', { workflow: 'support', channel: 'gpt-x' });
    const settings = await call('PUT', '/tenants/beta/bets/capture', {
      enabled: true,
      sampleRate: 1,
      workflow: 'support',
    });
    expect(settings.body).toMatchObject({ enabled: true, sampleRate: 1 });
    const sink = env.bets.captureSink;
    await sink.refreshSettings();
    const tools = [
      {
        type: 'function',
        function: {
          name: 'lookup_order',
          parameters: { type: 'object', properties: { order: { type: 'integer' } }, required: ['order'] },
        },
      },
    ];
    sink.capture(
      'beta',
      {
        model: 'gpt-x',
        messages: [{ role: 'user', content: 'Where is order 4411? Mail me at ana@example.com' }],
        tools,
      },
      { text: null, toolCalls: [{ name: 'lookup_order', arguments: '{"order":4411}' }] },
    );
    sink.capture(
      'acme',
      { model: 'gpt-x', messages: [{ role: 'user', content: 'not opted in' }] },
      { text: 'x', toolCalls: [] },
    );
    await sink.flush();
    const captured = await call('GET', '/tenants/beta/bets/captures');
    const items = captured.body.items as { id: string; input: { messages: { content: string }[] } }[];
    expect(items).toHaveLength(1);
    expect(items[0]?.input.messages[0]?.content).toBe('Where is order 4411? Mail me at [REDACTED_EMAIL]');
    expect((await call('GET', '/tenants/acme/bets/captures')).body.items).toEqual([]);

    const refreshed = await call('POST', '/tenants/beta/suites/support/refresh', {});
    expect(refreshed.body).toEqual({ proposed: 1, discarded: 0 });
    const [proposed] = (await call('GET', '/tenants/beta/bets/captures?status=proposed')).body.items as {
      id: string;
      proposal: { confidence: number };
    }[];
    expect(proposed?.proposal.confidence).toBe(1);
    const review = await call(
      'POST',
      `/tenants/beta/bets/captures/${proposed?.id}/review`,
      { decision: 'approve', note: 'looks right' },
      { token: TOKENS.betaContact },
    );
    expect(review.body).toMatchObject({ status: 'approved', reviewedBy: expect.stringMatching(/beta/) });
    const cases = (await call('GET', '/tenants/beta/suites/support/cases')).body.items as {
      id: string;
      source: string;
    }[];
    expect(cases).toEqual([
      expect.objectContaining({ id: expect.stringMatching(/^cap-/), source: 'capture' }),
    ]);
    const twice = await call('POST', `/tenants/beta/bets/captures/${proposed?.id}/review`, {
      decision: 'reject',
    });
    expect(twice.body.error?.code).toBe('not_proposed');
  });
});
