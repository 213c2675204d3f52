import { rmSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { PROCESS_ROLES, type ProcessRole } from '../app/process-role.js';
import type { Config } from '../config/config-schema.js';
import { ConfigError, loadConfig, validateConfig } from '../config/load-config.js';
import { CliError, EXIT } from './exit-codes.js';

const DEMO_TIME_SCALE = 120;

async function configFor(file: string | undefined, demo: boolean): Promise<Config> {
  try {
    if (file || !demo) return loadConfig(file);
    // No configuration at all: the demo on the embedded default. Its database starts fresh each
    // time, so the story starts from the beginning; configure storage to keep data.
    const { demoConfigInput } = await import('../demo/demo-mode.js');
    const config = validateConfig(demoConfigInput(DEMO_TIME_SCALE), process.env);
    for (const suffix of ['', '-wal', '-shm'])
      rmSync(`${config.storage.sqlitePath}${suffix}`, { force: true });
    return config;
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message, EXIT.invalid);
    throw e;
  }
}

/**
 * `switchyard serve`: the embedded default, everything in one process; with `--role` (or
 * `process.role`) one part of a scaled deployment (docs/scaled-deployment.md).
 */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'run Switchyard (SQLite and in-process cache unless configured; with no configuration at all, the demo)',
    )
    .option('-c, --config <file>', 'YAML configuration file (default: $SWITCHYARD_CONFIG)')
    .option('--no-demo', 'with no configuration, start empty instead of running the demo')
    .addOption(
      new Option(
        '--role <role>',
        'what this process runs: all, gateway (model traffic) or controller (rollout controller and schedules); default: process.role',
      ).choices(PROCESS_ROLES),
    )
    .action(async (opts: { config?: string; demo: boolean; role?: ProcessRole }) => {
      const file = opts.config ?? process.env.SWITCHYARD_CONFIG;
      const demoRefused = (role: string) =>
        new CliError(
          `the demo runs in one process of role all, not ${role}: give a configuration file (--config) or --no-demo`,
          EXIT.usage,
        );
      // Before configFor, which starts the demo's database afresh.
      if (!file && opts.demo && opts.role && opts.role !== 'all') throw demoRefused(opts.role);
      const config = await configFor(file, opts.demo);
      const role = opts.role ?? config.process.role;
      if (config.demo.enabled && role !== 'all') throw demoRefused(role);
      // Loaded here, not at the top: the admin commands must not pay for the whole server stack.
      const { createSwitchyardProcess, isWholeProcess } = await import('../app/compose.js');
      const { ScaledClock } = await import('../shared/clock.js');
      const app = await createSwitchyardProcess(config, {
        role,
        ...(config.demo.enabled ? { clock: new ScaledClock(config.demo.timeScale) } : {}),
      });
      const url = await app.listen();
      app.logger.info(
        { url, role, storage: config.storage.driver, cache: config.cache.driver },
        `Switchyard is listening on ${url} (role ${role}; admin API: ${url}/admin/v1, OpenAPI: ${url}/admin/v1/openapi.json)`,
      );
      let demo: { stop(): Promise<void> } | null = null;
      if (config.demo.enabled && isWholeProcess(app)) {
        const { startDemo } = await import('../demo/demo-mode.js');
        demo = await startDemo(app, url, config.demo, (msg, detail) => app.logger.info(detail ?? {}, msg));
        app.logger.info(
          { dashboard: `${url}/dashboard/`, timeScale: config.demo.timeScale },
          `demo running: open ${url}/dashboard/ and sign in with the token in .switchyard/admin-token (one simulated hour every ${(3600 / config.demo.timeScale).toFixed(0)} s)`,
        );
      }
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        app.logger.info({ signal }, 'shutting down');
        await demo?.stop();
        await app.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
      // Started by a supervisor (`switchyard cluster`) with an IPC channel: tell it we listen
      // (whatever the log level), and stop when it is gone rather than run on unsupervised.
      if (process.send && process.connected) {
        process.send({ type: 'switchyard:listening', url, role });
        process.once('disconnect', () => void stop('supervisor gone'));
      }
    });
}
