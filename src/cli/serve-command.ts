import { rmSync } from 'node:fs';
import type { Command } from 'commander';
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

/** `switchyard serve`: the embedded default, everything in one process. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'run Switchyard (SQLite and in-process cache unless configured; with no configuration at all, the demo)',
    )
    .option('-c, --config <file>', 'YAML configuration file (default: $SWITCHYARD_CONFIG)')
    .option('--no-demo', 'with no configuration, start empty instead of running the demo')
    .action(async (opts: { config?: string; demo: boolean }) => {
      const file = opts.config ?? process.env.SWITCHYARD_CONFIG;
      const config = await configFor(file, opts.demo);
      // Loaded here, not at the top: the admin commands must not pay for the whole server stack.
      const { createSwitchyard } = await import('../app/compose.js');
      const { ScaledClock } = await import('../shared/clock.js');
      const app = await createSwitchyard(
        config,
        config.demo.enabled ? { clock: new ScaledClock(config.demo.timeScale) } : {},
      );
      const url = await app.listen();
      app.logger.info(
        { url, storage: config.storage.driver, cache: config.cache.driver },
        `Switchyard is listening on ${url} (admin API: ${url}/admin/v1, OpenAPI: ${url}/admin/v1/openapi.json)`,
      );
      let demo: { stop(): Promise<void> } | null = null;
      if (config.demo.enabled) {
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
    });
}
