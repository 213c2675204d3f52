import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSwitchyard, type Switchyard } from '../app/compose.js';
import { validateConfig } from '../config/load-config.js';
import { EXIT } from './exit-codes.js';

/**
 * The admin CLI end to end: a real in-process server on in-memory SQLite, and the CLI run as a
 * child process, as a user or a script would. Spawns are slow (~2 s each), so independent ones
 * run in parallel and each asserts several things.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TOKEN = 'sya-test-operator-token';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let app: Switchyard;
let url: string;
let dir: string;

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      {
        cwd: ROOT,
        env: { ...process.env, SWITCHYARD_URL: url, SWITCHYARD_TOKEN: TOKEN, ...env },
        timeout: 50_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        // A spawn killed by the timeout has no exit code: say so where the assertion shows stderr.
        done({ code, stdout, stderr: err?.killed ? `${stderr}\n(killed after the timeout)` : stderr });
      },
    );
  });
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const MODEL = [
  '--channel',
  'gpt-5',
  '--provider',
  'openai-compatible',
  '--endpoint',
  'http://127.0.0.1:9/v1',
];

beforeAll(async () => {
  const config = validateConfig({
    server: { port: 0 },
    storage: { sqlitePath: ':memory:' },
    log: { level: 'silent' },
  });
  app = await createSwitchyard(config, { env: { SWITCHYARD_ADMIN_TOKEN: TOKEN } });
  url = await app.listen();
  dir = mkdtempSync(join(tmpdir(), 'sy-cli-'));
  writeFileSync(
    join(dir, 'tool.json'),
    JSON.stringify({
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'current weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    }),
  );
  writeFileSync(join(dir, 'bad-schema.json'), JSON.stringify({ type: 'objekt' }));
});

afterAll(async () => {
  await app?.close();
});

// Spawns share the CPU with whatever else runs: generous per-test time; ~30 s in total when idle.
describe('switchyard admin CLI against a running server', { timeout: 90_000 }, () => {
  it('creates a tenant and a model version, and refuses an unknown option', async () => {
    // Records the CLI is not under test for here are made in-process: spawns are the cost.
    await app.registry.createModel(
      { actor: 'test' },
      {
        id: 'm-cand',
        channel: 'gpt-5',
        providerKind: 'openai-compatible',
        upstreamModel: 'gpt-5b',
        endpoint: 'http://127.0.0.1:9/v1',
      },
    );
    await app.registry.createTenant({ actor: 'test' }, { id: 'temp', name: 'Temporary' });
    const [acme, stable, bogus] = await Promise.all([
      cli([
        'tenants',
        'create',
        'acme',
        '--name',
        'Acme Inc',
        '--criticality',
        'high',
        '--contact',
        'Ann Lee <ann@acme.test>',
        '--reason',
        'onboarding',
      ]),
      cli([
        'models',
        'create',
        'm-stable',
        ...MODEL,
        '--upstream-model',
        'gpt-5',
        '--lifecycle',
        'active',
        '--json',
      ]),
      cli(['tenants', 'list', '--bogus']),
    ]);
    expect(acme.code, acme.stderr).toBe(EXIT.ok);
    expect(acme.stdout).toContain('Created tenant acme');
    expect(acme.stdout).toMatch(/riskProfile\.criticality:\s+high/);
    expect(acme.stdout).toContain('Ann Lee <ann@acme.test>');
    expect(stable.code, stable.stderr).toBe(EXIT.ok);
    expect(JSON.parse(stable.stdout)).toMatchObject({
      id: 'm-stable',
      lifecycle: 'active',
      credentialsRef: 'none',
    });

    expect(bogus.code).toBe(EXIT.usage);
    expect(bogus.stderr).toContain("unknown option '--bogus'");

    // The reason given on the command line is what the audit log keeps.
    const entries = await app.store.listAudit({ tenantId: 'acme', limit: 10 });
    expect(entries.find((e) => e.action === 'tenant.create')?.reason).toBe('onboarding');
  });

  it('binds a channel and registers contracts; an invalid schema is refused with its path', async () => {
    const [bind, tool, bad, notFound, badToken, unreachable, badLimit] = await Promise.all([
      cli([
        'channels',
        'bind',
        'acme',
        '--channel',
        'gpt-5',
        '--stable',
        'm-stable',
        '--candidate',
        'm-cand',
        '--canary-percent',
        '5',
      ]),
      cli([
        'contracts',
        'register',
        'acme',
        '--model-version',
        'm-stable',
        '--name',
        'get_weather',
        '--tool-schema',
        join(dir, 'tool.json'),
      ]),
      cli([
        'contracts',
        'register',
        'acme',
        '--model-version',
        'm-stable',
        '--name',
        'bad',
        '--tool-schema',
        join(dir, 'bad-schema.json'),
      ]),
      cli(['tenants', 'show', 'nope']),
      cli(['tenants', 'list', '--token', 'sya-wrong']),
      closedPort().then((port) => cli(['status', '--url', `http://127.0.0.1:${port}`])),
      cli(['audit', 'list', '--limit', 'abc']),
    ]);
    expect(bind.code, bind.stderr).toBe(EXIT.ok);
    expect(bind.stdout).toMatch(/candidateVersionId:\s+m-cand/);
    expect(tool.code, tool.stderr).toBe(EXIT.ok);
    expect(tool.stdout).toContain('Registered tool contract acme:m-stable:get_weather');
    const stored = await app.store.get('contract', 'acme:m-stable:get_weather');
    expect(stored?.definition).toMatchObject({ kind: 'tool', description: 'current weather' });

    expect(bad.code).toBe(EXIT.invalid);
    expect(bad.stderr).toContain('/body/definition/parameters/type');
    expect(bad.stderr).toContain('hint:');

    expect(notFound.code).toBe(EXIT.notFound);
    expect(notFound.stderr).toContain("Tenant 'nope' was not found");
    expect(badToken.code).toBe(EXIT.auth);
    expect(unreachable.code).toBe(EXIT.unavailable);
    expect(unreachable.stderr).toContain('cannot reach');
    expect(badLimit.code).toBe(EXIT.usage);
    expect(badLimit.stderr).toContain("'--limit <n>' argument 'abc' is invalid");
  });

  it('shows records as JSON, refuses a stale --if-version, lists the audit, and prints a secret once', async () => {
    const [show, stale, audit, key] = await Promise.all([
      cli(['tenants', 'show', 'acme', '--json']),
      cli(['tenants', 'update', 'acme', '--name', 'Acme 2', '--if-version', '7']),
      cli(['audit', 'list', '--tenant', 'acme']),
      cli(['tenants', 'keys', 'create', 'acme', '--label', 'agent-1']),
    ]);
    expect(show.code, show.stderr).toBe(EXIT.ok);
    const tenant = JSON.parse(show.stdout);
    expect(tenant).toMatchObject({
      id: 'acme',
      name: 'Acme Inc',
      rolloutGroup: 'standard',
      frozen: false,
      riskProfile: { criticality: 'high' },
      contacts: [{ name: 'Ann Lee', email: 'ann@acme.test' }],
      version: 1,
    });

    expect(stale.code).toBe(EXIT.conflict);
    expect(stale.stderr).toContain('is at version 1, not 7');
    expect((await app.store.get('tenant', 'acme'))?.name).toBe('Acme Inc');

    expect(audit.code, audit.stderr).toBe(EXIT.ok);
    for (const s of [
      'seq',
      'actor',
      'tenant.create',
      'tenant_channel.bind',
      'contract.register',
      'onboarding',
    ]) {
      expect(audit.stdout).toContain(s);
    }

    expect(key.code, key.stderr).toBe(EXIT.ok);
    expect(key.stdout).toMatch(/API key: sy-\S+/);
    expect(key.stderr).toContain('will not be shown again');
  });

  it('reverts a change, and a second revert of the same create is a conflict', async () => {
    const [create] = await app.store.listAudit({ entityKind: 'tenant', entityId: 'temp', limit: 1 });
    expect(create?.action).toBe('tenant.create');
    const id = create?.id ?? '';

    const first = await cli(['revert', id, '--reason', 'created by mistake']);
    expect(first.code, first.stderr).toBe(EXIT.ok);
    expect(first.stdout).toContain(`Reverted ${id}`);
    expect(await app.store.get('tenant', 'temp')).toBeUndefined();

    const [second, show] = await Promise.all([cli(['revert', id]), cli(['audit', 'show', id])]);
    expect(second.code).toBe(EXIT.conflict);
    expect(second.stderr).toContain('revert_conflict');
    expect(show.code, show.stderr).toBe(EXIT.ok);
    expect(show.stdout).toContain('before:');
    expect(show.stdout).toMatch(/\+ name: Temporary/);
    expect(show.stdout).toContain('(none: the record did not exist)');
  });
});
