import type { Config } from '../config/config-schema.js';
import { type CliEntry, cliEntry } from './cli-entry.js';
import { RoundRobinFront, upstreamOf } from './round-robin-front.js';
import {
  type ChildSpec,
  type ChildState,
  type ClusterLog,
  Supervisor,
  type SupervisorOptions,
} from './supervisor.js';

export interface ClusterOptions {
  /** The configuration file every process is started with (an absolute path). */
  configFile: string;
  /** That file, loaded and validated (the cluster reads the drivers, host and port from it). */
  config: Config;
  gateways: number;
  controllers: number;
  /** Gateways listen on basePort+1..+N, controllers after them (default: `server.port`; 0: any free ports). */
  basePort?: number;
  log: ClusterLog;
  /** The children's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  entry?: CliEntry;
  supervisor?: Pick<SupervisorOptions, 'output' | 'backoff' | 'startTimeoutMs' | 'stopTimeoutMs'>;
}

export interface ClusterProcess extends ChildState {
  /** The port it was told to listen on (0: any). */
  port: number;
}

/** Why a configuration cannot run as a cluster (empty when it can). */
export function clusterProblems(config: Config): string[] {
  const problems: string[] = [];
  if (config.storage.driver !== 'postgres') {
    problems.push(
      `storage.driver is ${config.storage.driver}: the processes of a cluster share one database, so it must be postgres (and SWITCHYARD_DATABASE_URL set)`,
    );
  }
  if (config.cache.driver !== 'redis') {
    problems.push(
      `cache.driver is ${config.cache.driver}: the gateways of a cluster share session pins and change notifications, so it must be redis (and SWITCHYARD_REDIS_URL set)`,
    );
  }
  if (config.demo.enabled)
    problems.push('demo.enabled is true: the demo runs in one process (switchyard serve)');
  return problems;
}

/** The processes of a cluster: names, roles, ports and command lines. */
export function planCluster(o: ClusterOptions): Array<ChildSpec & { port: number }> {
  const base = o.basePort ?? o.config.server.port;
  const total = o.gateways + o.controllers;
  if (base !== 0 && base + total > 65_535) {
    throw new Error(`ports ${base + 1}..${base + total} do not all exist; choose a lower base port`);
  }
  const entry = o.entry ?? cliEntry();
  const env = o.env ?? process.env;
  const spec = (role: 'gateway' | 'controller', index: number, offset: number) => {
    const port = base === 0 ? 0 : base + offset;
    return {
      name: `${role}-${index}`,
      role,
      port,
      command: process.execPath,
      args: [...entry.execArgv, entry.script, 'serve', '--config', o.configFile, '--role', role, '--no-demo'],
      env: { ...env, SWITCHYARD_PORT: String(port) },
    };
  };
  return [
    ...Array.from({ length: o.gateways }, (_, i) => spec('gateway', i + 1, i + 1)),
    ...Array.from({ length: o.controllers }, (_, i) => spec('controller', i + 1, o.gateways + i + 1)),
  ];
}

/**
 * A scaled deployment on one machine: N gateway and M controller `switchyard serve` processes
 * (children, started from one configuration file) sharing PostgreSQL and Redis, kept running by a
 * supervisor, and a round-robin TCP front on `server.port` so clients have one base URL.
 */
export class Cluster {
  private readonly plan: Array<ChildSpec & { port: number }>;
  private readonly supervisor: Supervisor;
  private front: RoundRobinFront | null = null;
  private stopped: Promise<void> | null = null;
  url: string | null = null;

  constructor(private readonly o: ClusterOptions) {
    const problems = clusterProblems(o.config);
    if (problems.length > 0) throw new Error(problems.join('; '));
    if (o.gateways < 1) throw new Error('a cluster needs at least one gateway');
    this.plan = planCluster(o);
    this.supervisor = new Supervisor(this.plan, { log: o.log, ...o.supervisor });
  }

  /** Starts every process, then the front; resolves to the front's URL. */
  async start(): Promise<string> {
    this.o.log.info(
      { gateways: this.o.gateways, controllers: this.o.controllers },
      `starting ${this.o.gateways} gateways and ${this.o.controllers} controllers`,
    );
    await this.supervisor.start();
    if (this.stopped) throw new Error('stopped while starting');
    const { host, port } = this.o.config.server;
    const front = new RoundRobinFront({
      host,
      port,
      log: this.o.log,
      upstreams: () =>
        this.supervisor
          .children()
          .filter((c) => c.role === 'gateway' && c.status === 'ready' && c.url !== null)
          .map((c) => upstreamOf(c.url as string)),
    });
    this.front = front;
    let address: { host: string; port: number };
    try {
      address = await front.listen();
    } catch (e) {
      await this.stop();
      throw new Error(`the front cannot listen on ${host}:${port}: ${(e as Error).message}`);
    }
    const shownHost = address.host.includes(':') ? `[${address.host}]` : address.host;
    this.url = `http://${shownHost}:${address.port}`;
    const processes = this.processes().map(({ name, role, url, pid }) => ({ name, role, url, pid }));
    this.o.log.info(
      { url: this.url, processes },
      `Switchyard cluster is listening on ${this.url} (round robin over ${this.o.gateways} gateways; ${this.o.controllers} controllers): ${processes
        .map((p) => `${p.name} ${p.url}`)
        .join(', ')}`,
    );
    return this.url;
  }

  processes(): ClusterProcess[] {
    const ports = new Map(this.plan.map((p) => [p.name, p.port]));
    return this.supervisor.children().map((c) => ({ ...c, port: ports.get(c.name) ?? 0 }));
  }

  /** Closes the front, then sends `signal` to every process and waits for them to exit. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.stopped ??= (async () => {
      this.o.log.info({ signal }, `stopping the cluster (${signal} to every process)`);
      await this.front?.close();
      await this.supervisor.stop(signal);
      this.o.log.info({}, 'every process has stopped');
    })();
    return this.stopped;
  }
}
