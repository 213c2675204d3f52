import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { CliError, EXIT } from './exit-codes.js';

/** `switchyard serve`: the embedded default, everything in one process. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run Switchyard (admin API; SQLite and in-process cache unless configured otherwise)')
    .option('-c, --config <file>', 'YAML configuration file (default: $SWITCHYARD_CONFIG)')
    .action(async (opts: { config?: string }) => {
      let config: ReturnType<typeof loadConfig>;
      try {
        config = loadConfig(opts.config ?? process.env.SWITCHYARD_CONFIG);
      } catch (e) {
        if (e instanceof ConfigError) throw new CliError(e.message, EXIT.invalid);
        throw e;
      }
      // Loaded here, not at the top: the admin commands must not pay for the whole server stack.
      const { createSwitchyard } = await import('../app/compose.js');
      const app = await createSwitchyard(config);
      const url = await app.listen();
      app.logger.info(
        { url, storage: config.storage.driver, cache: config.cache.driver },
        `Switchyard is listening on ${url} (admin API: ${url}/admin/v1, OpenAPI: ${url}/admin/v1/openapi.json)`,
      );
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        app.logger.info({ signal }, 'shutting down');
        await app.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}
