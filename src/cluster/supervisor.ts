import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** The logging the supervisor needs (pino's Logger has it). */
export interface ClusterLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** One supervised process: what to run, and the name its output and logs carry. */
export interface ChildSpec {
  /** e.g. `gateway-1`; unique in the cluster. */
  name: string;
  /** What it runs (shown, and the round-robin front sends traffic to the `gateway` ones). */
  role: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
}

export type ChildStatus = 'starting' | 'ready' | 'waiting_to_restart' | 'stopped';

/** What the supervisor knows of a child now. */
export interface ChildState {
  name: string;
  role: string;
  status: ChildStatus;
  /** The current process id (null between a crash and the restart). */
  pid: number | null;
  /** The URL the process said it listens on (null until it said so). */
  url: string | null;
  /** Restarts after a crash so far. */
  restarts: number;
}

export interface SupervisorOptions {
  log: ClusterLog;
  /** Where children's output lines go (default: this process's stdout and stderr). */
  output?: { stdout(name: string, line: string): void; stderr(name: string, line: string): void };
  /** A child must say it is listening within this long, or it is killed (a failed start). */
  startTimeoutMs?: number;
  /** After SIGTERM/SIGINT, children still running after this long get SIGKILL. */
  stopTimeoutMs?: number;
  /** Restart delay: `initialMs × 2^(failures − 1)` up to `maxMs`; a child that ran `resetAfterMs` starts over. */
  backoff?: { initialMs: number; maxMs: number; resetAfterMs: number };
  /** Told whenever a child becomes ready or goes away (the front re-reads the gateways). */
  onChange?: () => void;
}

const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };

/**
 * The message a `switchyard serve` child sends its supervisor over the IPC channel once it
 * listens (whatever its log level): `{ type: 'switchyard:listening', url, role }`.
 */
export const LISTENING_MESSAGE = 'switchyard:listening';

/** The URL in a child's listening message; null for any other message. */
export function listeningUrl(message: unknown): string | null {
  if (typeof message !== 'object' || message === null) return null;
  const m = message as { type?: unknown; url?: unknown };
  return m.type === LISTENING_MESSAGE && typeof m.url === 'string' ? m.url : null;
}

/** A child's JSON log line with its name added (`{"proc":"gateway-1",...}`), other lines prefixed. */
export function tagLine(name: string, line: string): string {
  return line.startsWith('{"') ? `{"proc":${JSON.stringify(name)},${line.slice(1)}` : `[${name}] ${line}`;
}

class Managed {
  child: ChildProcess | null = null;
  status: ChildStatus = 'starting';
  url: string | null = null;
  restarts = 0;
  /** Failed starts and crashes in a row (reset once the child has run `resetAfterMs`). */
  failures = 0;
  everReady = false;
  readyAtMs = 0;
  restartTimer: NodeJS.Timeout | null = null;
  startTimer: NodeJS.Timeout | null = null;
  /** The last lines it wrote to stderr, for the message when it fails to start. */
  stderrTail: string[] = [];
  exited: Promise<void> = Promise.resolve();

  constructor(readonly spec: ChildSpec) {}

  state(): ChildState {
    return {
      name: this.spec.name,
      role: this.spec.role,
      status: this.status,
      pid: this.child?.pid ?? null,
      url: this.url,
      restarts: this.restarts,
    };
  }
}

/**
 * Runs child processes and keeps them running: a child that exits on its own (a crash, or killed
 * by someone else) is restarted after an exponential backoff, and the restart is logged. The first
 * start is different: a child that fails before it ever listened fails `start()` (and everything
 * is stopped), because that is a configuration or environment problem a restart loop would hide.
 * `stop()` sends the signal to every child and resolves once all have exited (SIGKILL after
 * `stopTimeoutMs`).
 */
export class Supervisor {
  private readonly managed: Managed[];
  private readonly backoff: { initialMs: number; maxMs: number; resetAfterMs: number };
  private readonly startTimeoutMs: number;
  private readonly stopTimeoutMs: number;
  private stopping = false;
  private firstStart: { resolve(): void; reject(e: Error): void } | null = null;

  constructor(
    specs: ChildSpec[],
    private readonly opts: SupervisorOptions,
  ) {
    const names = new Set(specs.map((s) => s.name));
    if (names.size !== specs.length) throw new Error('child names must be unique');
    this.managed = specs.map((s) => new Managed(s));
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.startTimeoutMs = opts.startTimeoutMs ?? 60_000;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 20_000;
  }

  /** Starts every child; resolves when all listen, rejects (having stopped them all) if one fails first. */
  start(): Promise<void> {
    const all = new Promise<void>((resolve, reject) => {
      this.firstStart = { resolve, reject };
    });
    for (const m of this.managed) this.spawn(m);
    return all;
  }

  children(): ChildState[] {
    return this.managed.map((m) => m.state());
  }

  /** Sends `signal` to every child; resolves once every one has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.stopping = true;
    if (this.firstStart) {
      const { reject } = this.firstStart;
      this.firstStart = null;
      reject(new Error(`stopped (${signal}) before every process was listening`));
    }
    for (const m of this.managed) {
      if (m.restartTimer) clearTimeout(m.restartTimer);
      m.restartTimer = null;
      if (m.startTimer) clearTimeout(m.startTimer);
      m.startTimer = null;
    }
    const live = this.managed.filter(
      (m) => m.child && m.child.exitCode === null && m.child.signalCode === null,
    );
    for (const m of live) m.child?.kill(signal);
    const kill = setTimeout(() => {
      for (const m of live) {
        if (m.child && m.child.exitCode === null && m.child.signalCode === null) {
          this.opts.log.warn(
            { name: m.spec.name, pid: m.child.pid },
            `${m.spec.name} did not stop; killing it`,
          );
          m.child.kill('SIGKILL');
        }
      }
    }, this.stopTimeoutMs);
    await Promise.all(this.managed.map((m) => m.exited));
    clearTimeout(kill);
  }

  private spawn(m: Managed): void {
    const { spec } = m;
    m.status = 'starting';
    m.url = null;
    m.stderrTail = [];
    const child = spawn(spec.command, spec.args, {
      env: spec.env,
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
      // The IPC channel carries the listening message, and tells the child when we are gone.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    m.child = child;
    m.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exited(m, child, code, signal);
        resolve();
      });
      child.once('error', (err) => {
        this.opts.log.error({ err, name: spec.name }, `${spec.name}: ${err.message}`);
        // Spawning itself failed (no such executable): no 'exit' comes.
        if (child.pid === undefined) {
          this.exited(m, child, null, null);
          resolve();
        }
      });
    });
    const out = this.opts.output ?? {
      stdout: (name: string, line: string) => process.stdout.write(`${tagLine(name, line)}\n`),
      stderr: (name: string, line: string) => process.stderr.write(`${tagLine(name, line)}\n`),
    };
    child.on('message', (message) => {
      const url = m.child === child && m.status === 'starting' ? listeningUrl(message) : null;
      if (url) this.ready(m, url);
    });
    if (child.stdout) {
      createInterface({ input: child.stdout }).on('line', (line) => out.stdout(spec.name, line));
    }
    if (child.stderr) {
      createInterface({ input: child.stderr }).on('line', (line) => {
        out.stderr(spec.name, line);
        m.stderrTail.push(line);
        if (m.stderrTail.length > 20) m.stderrTail.shift();
      });
    }
    m.startTimer = setTimeout(() => {
      m.startTimer = null;
      if (m.status !== 'starting' || this.stopping) return;
      this.opts.log.error(
        { name: spec.name, pid: child.pid, timeoutMs: this.startTimeoutMs },
        `${spec.name} did not start listening within ${this.startTimeoutMs} ms; killing it`,
      );
      child.kill('SIGKILL');
    }, this.startTimeoutMs);
  }

  private ready(m: Managed, url: string): void {
    if (m.startTimer) clearTimeout(m.startTimer);
    m.startTimer = null;
    m.status = 'ready';
    m.url = url;
    m.readyAtMs = Date.now();
    const again = m.everReady;
    m.everReady = true;
    const { name, role } = m.spec;
    this.opts.log.info(
      { name, role, url, pid: m.child?.pid, restarts: m.restarts },
      again
        ? `${name} (role ${role}) is listening again on ${url}`
        : `${name} (role ${role}) is listening on ${url}`,
    );
    this.opts.onChange?.();
    if (this.firstStart && this.managed.every((x) => x.everReady)) {
      this.firstStart.resolve();
      this.firstStart = null;
    }
  }

  private exited(m: Managed, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (m.child !== child) return;
    if (m.startTimer) clearTimeout(m.startTimer);
    m.startTimer = null;
    const wasReady = m.status === 'ready';
    m.status = 'stopped';
    m.url = null;
    const { name } = m.spec;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    this.opts.onChange?.();
    if (this.stopping) {
      this.opts.log.info({ name, pid: child.pid, code, signal }, `${name} stopped (${how})`);
      return;
    }
    if (!m.everReady) {
      const tail = m.stderrTail.slice(-5).join('\n  ');
      this.failFirstStart(m, `${name} exited (${how}) before it was listening${tail ? `:\n  ${tail}` : ''}`);
      return;
    }
    if (wasReady && Date.now() - m.readyAtMs >= this.backoff.resetAfterMs) m.failures = 0;
    m.failures++;
    const delayMs = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** (m.failures - 1));
    m.status = 'waiting_to_restart';
    this.opts.log.warn(
      { name, pid: child.pid, code, signal, failures: m.failures, restartInMs: delayMs },
      `${name} exited (${how}); restarting in ${delayMs} ms`,
    );
    m.restartTimer = setTimeout(() => {
      m.restartTimer = null;
      if (this.stopping) return;
      m.restarts++;
      this.spawn(m);
    }, delayMs);
  }

  private failFirstStart(m: Managed, message: string): void {
    if (!this.firstStart || this.stopping) return;
    const { reject } = this.firstStart;
    this.firstStart = null;
    this.opts.log.error({ name: m.spec.name }, message);
    void this.stop('SIGTERM').then(() => reject(new Error(message)));
  }
}
