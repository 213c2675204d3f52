import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { RoundRobinFront, upstreamOf } from './round-robin-front.js';
import { type ChildSpec, type ClusterLog, listeningUrl, Supervisor, tagLine } from './supervisor.js';

/**
 * The supervisor and the front with tiny stand-in children (a node one-liner that listens and
 * logs the line `switchyard serve` logs), so the restart, failure and signal rules are checked
 * without the whole server stack.
 */
const CHILD = `
const http = require('node:http');
const s = http.createServer((q, r) => r.end(process.env.NAME));
s.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'listening' }));
  process.send({ type: 'switchyard:listening', url: 'http://127.0.0.1:' + s.address().port, role: 'x' });
});
process.on('SIGTERM', () => {
  if (process.env.IGNORE_TERM) return console.error('ignoring SIGTERM');
  console.error('got SIGTERM');
  process.exit(0);
});`;

const child = (name: string, env: Record<string, string> = {}, script = CHILD): ChildSpec => ({
  name,
  role: name.split('-')[0] ?? 'gateway',
  command: process.execPath,
  args: ['-e', script],
  env: { ...process.env, NAME: name, ...env },
});

interface Logged {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

function recorder(): ClusterLog & { lines: Logged[] } {
  const lines: Logged[] = [];
  const at = (level: string) => (obj: object, msg: string) => lines.push({ level, obj: { ...obj }, msg });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

const output = () => {
  const lines: string[] = [];
  return {
    lines,
    stdout: (name: string, line: string) => lines.push(tagLine(name, line)),
    stderr: (name: string, line: string) => lines.push(tagLine(name, line)),
  };
};

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function get(url: string, agentless = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: agentless ? false : undefined }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('child messages and lines', () => {
  it('reads the URL from the message serve sends, and tags child lines with their name', () => {
    expect(listeningUrl({ type: 'switchyard:listening', url: 'http://127.0.0.1:1', role: 'gateway' })).toBe(
      'http://127.0.0.1:1',
    );
    expect(listeningUrl({ type: 'other', url: 'http://127.0.0.1:1' })).toBeNull();
    expect(listeningUrl('switchyard:listening')).toBeNull();
    expect(JSON.parse(tagLine('gateway-1', '{"level":30,"msg":"hi"}'))).toEqual({
      proc: 'gateway-1',
      level: 30,
      msg: 'hi',
    });
    expect(tagLine('gateway-1', 'plain text')).toBe('[gateway-1] plain text');
  });
});

describe('Supervisor', () => {
  it('starts every child, restarts one that crashes (with backoff, logged) and forwards the stop signal', async () => {
    const log = recorder();
    const out = output();
    const sup = new Supervisor([child('gateway-1'), child('gateway-2'), child('controller-1')], {
      log,
      output: out,
      backoff: { initialMs: 100, maxMs: 1000, resetAfterMs: 60_000 },
    });
    cleanup.push(() => sup.stop());
    await sup.start();
    const first = sup.children();
    expect(first.map((c) => [c.name, c.role, c.status])).toEqual([
      ['gateway-1', 'gateway', 'ready'],
      ['gateway-2', 'gateway', 'ready'],
      ['controller-1', 'controller', 'ready'],
    ]);
    const g2 = first[1];
    expect(await get(g2?.url ?? '')).toBe('gateway-2');
    expect(out.lines.some((l) => l.startsWith('{"proc":"gateway-2"'))).toBe(true);

    // Killed from outside: restarted after the backoff, on a new pid, and logged both times.
    process.kill(g2?.pid ?? 0, 'SIGKILL');
    await until(() => sup.children()[1]?.status === 'waiting_to_restart', 'the crash to be seen');
    await until(() => sup.children()[1]?.status === 'ready', 'the restart');
    const again = sup.children()[1];
    expect(again?.restarts).toBe(1);
    expect(again?.pid).not.toBe(g2?.pid);
    expect(await get(again?.url ?? '')).toBe('gateway-2');
    expect(log.lines.find((l) => l.level === 'warn')?.msg).toBe(
      'gateway-2 exited (signal SIGKILL); restarting in 100 ms',
    );
    expect(log.lines.some((l) => l.msg.startsWith('gateway-2 (role gateway) is listening again'))).toBe(true);

    // A second crash in a row waits twice as long.
    process.kill(again?.pid ?? 0, 'SIGKILL');
    await until(() => log.lines.filter((l) => l.level === 'warn').length === 2, 'the second crash');
    expect(log.lines.filter((l) => l.level === 'warn')[1]?.obj.restartInMs).toBe(200);
    await until(() => sup.children()[1]?.status === 'ready', 'the second restart');

    await sup.stop('SIGTERM');
    expect(sup.children().every((c) => c.status === 'stopped')).toBe(true);
    expect(out.lines.filter((l) => l.endsWith('got SIGTERM')).length).toBe(3);
  });

  it('fails the start (and stops the others) when a child exits before it listens', async () => {
    const log = recorder();
    const sup = new Supervisor(
      [
        child('gateway-1'),
        child(
          'controller-1',
          {},
          `console.error('no admin token exists: set SWITCHYARD_ADMIN_TOKEN'); process.exit(1);`,
        ),
      ],
      { log, output: output() },
    );
    await expect(sup.start()).rejects.toThrow(
      /controller-1 exited \(code 1\) before it was listening:\n {2}no admin token exists/,
    );
    await until(() => sup.children().every((c) => c.status === 'stopped'), 'every child to stop');
    expect(log.lines.some((l) => l.level === 'warn')).toBe(false);
  });

  it('kills a child that ignores the stop signal after the stop timeout', async () => {
    const sup = new Supervisor([child('gateway-1', { IGNORE_TERM: '1' })], {
      log: recorder(),
      output: output(),
      stopTimeoutMs: 300,
    });
    await sup.start();
    const started = Date.now();
    await sup.stop('SIGTERM');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(sup.children()[0]?.status).toBe('stopped');
  });
});

describe('RoundRobinFront', () => {
  it('sends each connection to the next gateway, skipping one that is down', async () => {
    const sup = new Supervisor([child('gateway-1'), child('gateway-2'), child('gateway-3')], {
      log: recorder(),
      output: output(),
      backoff: { initialMs: 60_000, maxMs: 60_000, resetAfterMs: 60_000 },
    });
    cleanup.push(() => sup.stop());
    await sup.start();
    const urls = sup.children().map((c) => c.url ?? '');
    const front = new RoundRobinFront({
      host: '127.0.0.1',
      port: 0,
      log: recorder(),
      // Includes gateways that are down: the front must skip them, not fail.
      upstreams: () => urls.map(upstreamOf),
    });
    cleanup.push(() => front.close());
    const { port } = await front.listen();
    const base = `http://127.0.0.1:${port}/`;
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await get(base));
    expect(seen).toEqual(['gateway-1', 'gateway-2', 'gateway-3', 'gateway-1', 'gateway-2', 'gateway-3']);

    process.kill(sup.children()[1]?.pid ?? 0, 'SIGKILL');
    await until(() => sup.children()[1]?.status !== 'ready', 'gateway-2 to die');
    const after: string[] = [];
    for (let i = 0; i < 6; i++) after.push(await get(base));
    expect(after).not.toContain('gateway-2');
    expect(new Set(after)).toEqual(new Set(['gateway-1', 'gateway-3']));
  });
});
