import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';

/**
 * One Switchyard process of a fault test. With a time scale of 1 it is the real
 * `switchyard serve --config FILE`, as an operator runs it; with a larger scale it is the same
 * composition on an accelerated clock shared by all processes of the test (`scaled-serve.ts`).
 */
export interface SwitchyardNode {
  name: string;
  url: string;
  pid: number;
  child: ChildProcess;
  /** The last log lines (stdout and stderr), for failure messages. */
  logs: string[];
  readonly alive: boolean;
  /** How the process ended when nobody stopped or killed it (a crash), else null. */
  readonly crash: string | null;
  /** SIGTERM, as an orchestrator stops a process: it flushes telemetry and hands the lease over. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. Nothing is flushed, the lease is not released. */
  kill(): Promise<void>;
}

const ROOT = new URL('../../../', import.meta.url).pathname;
const MAX_LOG_LINES = 400;

export interface NodeClock {
  timeScale: number;
  epochMs: number;
}

export async function startNode(
  name: string,
  config: Record<string, unknown>,
  env: Record<string, string>,
  clock: NodeClock = { timeScale: 1, epochMs: Date.now() },
  timeoutMs = 40_000,
): Promise<SwitchyardNode> {
  const file = join(tmpdir(), `sy-fault-${process.pid}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(config));
  const args =
    clock.timeScale === 1
      ? ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', file]
      : ['--import', 'tsx', 'src/test-support/faults/scaled-serve.ts', file];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      ...env,
      SWITCHYARD_FAULT_TIME_SCALE: String(clock.timeScale),
      SWITCHYARD_FAULT_EPOCH_MS: String(clock.epochMs),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const keep = (line: string) => {
    logs.push(line);
    if (logs.length > MAX_LOG_LINES) logs.shift();
  };
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start in ${timeoutMs} ms:\n${logs.slice(-30).join('\n')}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${logs.slice(-30).join('\n')}`));
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      keep(line);
      try {
        const rec = JSON.parse(line) as { url?: string; msg?: string };
        if (rec.url && rec.msg?.startsWith('Switchyard is listening')) {
          clearTimeout(timer);
          resolve(rec.url);
        }
      } catch {
        // not a log line
      }
    });
  });
  exited.then(() => rmSync(file, { force: true }));
  let stopping = false;
  let crash: string | null = null;
  child.once('exit', (code, sig) => {
    if (!stopping) crash = `exited by itself with ${sig ?? code}:\n${logs.slice(-40).join('\n')}`;
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  const signal = async (sig: NodeJS.Signals, graceMs: number) => {
    if (alive()) {
      stopping = true;
      child.kill(sig);
      const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(force);
    }
    rmSync(file, { force: true });
  };
  return {
    name,
    url,
    pid: child.pid as number,
    child,
    logs,
    get alive() {
      return alive();
    },
    get crash() {
      return crash;
    },
    stop: () => signal('SIGTERM', 15_000),
    kill: () => signal('SIGKILL', 5_000),
  };
}
