import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { CliError, EXIT } from './exit-codes.js';

const count =
  (min: number, max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    }
    return n;
  };

interface ClusterOpts {
  config?: string;
  gateways: number;
  controllers: number;
  basePort?: number;
}

/**
 * `switchyard cluster`: the scaled topology on one machine (docs/scaled-deployment.md). Gateways
 * and controllers are `switchyard serve --role ...` children of this process, restarted when they
 * crash; a round-robin TCP front on `server.port` gives clients one base URL.
 */
export function registerClusterCommand(program: Command): void {
  program
    .command('cluster')
    .description(
      'run a scaled deployment on one machine: gateway and controller processes sharing PostgreSQL and Redis, behind a round-robin front on server.port',
    )
    .option('-c, --config <file>', 'YAML configuration file (default: $SWITCHYARD_CONFIG)')
    .option('--gateways <n>', 'gateway processes (model traffic, admin API, dashboard)', count(1, 64), 3)
    .option('--controllers <n>', 'controller processes (one leads the rollout controller)', count(0, 16), 2)
    .option(
      '--base-port <port>',
      'gateways listen on base+1..base+N, controllers on the ports after them (default: server.port; 0: any free ports)',
      count(0, 65_535),
    )
    .action(async (opts: ClusterOpts) => {
      const file = opts.config ?? process.env.SWITCHYARD_CONFIG;
      if (!file) {
        throw new CliError(
          'switchyard cluster needs a configuration file with storage.driver: postgres and cache.driver: redis (--config FILE or SWITCHYARD_CONFIG); see docs/scaled-deployment.md',
          EXIT.invalid,
        );
      }
      let config: ReturnType<typeof loadConfig>;
      try {
        config = loadConfig(file);
      } catch (e) {
        if (e instanceof ConfigError) throw new CliError(e.message, EXIT.invalid);
        throw e;
      }
      // Loaded here, not at the top: the admin commands must not pay for it.
      const { Cluster, clusterProblems } = await import('../cluster/cluster.js');
      const problems = clusterProblems(config);
      if (problems.length > 0) {
        throw new CliError(
          `switchyard cluster cannot run this configuration:\n  - ${problems.join('\n  - ')}`,
          EXIT.invalid,
        );
      }
      const { default: pino } = await import('pino');
      const log = pino({ level: config.log.level, base: { pid: process.pid, proc: 'cluster' } });
      let cluster: InstanceType<typeof Cluster>;
      try {
        cluster = new Cluster({
          configFile: resolve(file),
          config,
          gateways: opts.gateways,
          controllers: opts.controllers,
          ...(opts.basePort !== undefined ? { basePort: opts.basePort } : {}),
          log,
        });
      } catch (e) {
        throw new CliError((e as Error).message, EXIT.invalid);
      }
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) return;
        stopping = true;
        void cluster.stop(signal).then(() => process.exit(0));
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      try {
        await cluster.start();
      } catch (e) {
        if (stopping) return;
        throw new CliError(`the cluster did not start: ${(e as Error).message}`, EXIT.failure);
      }
    });
}
