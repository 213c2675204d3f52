import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { addGlobalOptions } from '../cli/command-kit.js';
import { registerSuiteCommands } from '../cli/commands/suite-commands.js';
import type { HttpApp } from '../http/create-http-app.js';
import type { RunningSimulator } from '../simulator/index.js';
import { memorySqlite } from '../test-support/registry-fixtures.js';
import {
  type BetsEnv,
  betsEnv,
  betsHttpApp,
  bfclSlice,
  SIMPLE,
  seedTenant,
  startSim,
} from './test-support/bets-fixtures.js';

/** `switchyard suites ...` against a real server (HTTP on a free port) backed by the simulator. */

const TOKEN = 'sya-cli-operator-0123456789abcdef';
let sim: RunningSimulator;
let env: BetsEnv;
let app: HttpApp;
let url = '';
let dir = '';

beforeAll(async () => {
  sim = await startSim({});
  env = await betsEnv(await memorySqlite(), sim);
  await seedTenant(env.registry, 'acme');
  await env.registry.importAdminToken({ actor: 'test' }, { name: 'op', role: 'operator' }, TOKEN);
  app = await betsHttpApp(env);
  url = await app.listen({ host: '127.0.0.1', port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'bets-cli-'));
  const slice = bfclSlice(SIMPLE, 5);
  writeFileSync(join(dir, 'cases.json'), slice.cases);
  writeFileSync(join(dir, 'cases.answers.json'), slice.answers);
});

afterAll(async () => {
  await app.close();
  await env.close();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs one command line; returns what it printed and the exit code it set. */
async function cli(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  const program = new Command().exitOverride();
  registerSuiteCommands(program);
  addGlobalOptions(program);
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'switchyard', ...args, '--url', url, '--token', TOKEN]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { out, err, code };
}

describe('switchyard suites', () => {
  it('imports BFCL cases, lists and shows the suite', async () => {
    const imported = await cli(
      'suites',
      'import',
      'acme',
      'orders',
      '--bfcl',
      join(dir, 'cases.json'),
      '--channel',
      'gpt-x',
    );
    expect(imported.out).toMatch(/Imported 5 case\(s\) into acme:orders: now version 1 with 5 case\(s\)\./);
    expect((await cli('suites', 'list', 'acme')).out).toMatch(/orders\s+│\s+gpt-x\s+│\s+1\s+│\s+5\s+│\s+no/);
    const shown = await cli('suites', 'show', 'acme', 'orders');
    expect(shown.out).toMatch(/caseCount:\s+5/);
    expect(shown.out).toMatch(/imported 5 case\(s\) from bfcl/);
  });

  it('runs a suite with a progress bar and exits 0 when the gate passes', async () => {
    const run = await cli('suites', 'run', 'acme', 'orders');
    expect(run.code).toBe(0);
    expect(run.err).toMatch(/\[#+\] 100% 5\/5 · 0 failing · 0 errors/);
    expect(run.out).toMatch(/Run run_\w+ \(orders\): completed, PASS/);
    expect(run.out).toMatch(/tool_call\s+│\s+5\s+│\s+5\s+│\s+100\.0%/);
  });

  it('writes reports as JUnit XML and Markdown', async () => {
    const runId = (await env.bets.store.listRuns({ tenantId: 'acme', limit: 1 }))[0]?.id ?? '';
    const file = join(dir, 'junit.xml');
    await cli('suites', 'report', 'acme', runId, '--format', 'junit', '-o', file);
    expect(readFileSync(file, 'utf8')).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="switchyard-bets" tests="5" failures="0"/,
    );
    expect((await cli('suites', 'report', 'acme', runId)).out).toMatch(/^# BETS run run_\w+: PASS/);
    await expect(cli('suites', 'report', 'acme', 'run_nope')).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringMatching(/Run 'run_nope' was not found \(not_found\)/),
    });
  });

  it('exports a suite file that imports back', async () => {
    const file = join(dir, 'suite.json');
    await cli('suites', 'export', 'acme', 'orders', '-o', file);
    const again = await cli('suites', 'import', 'acme', 'copy', '--file', file);
    expect(again.out).toMatch(/Imported 5 case\(s\) into acme:copy/);
  });
});
