import type { Command } from 'commander';
import { ConfigSchema } from '../config/config-schema.js';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { CliError, EXIT } from './exit-codes.js';

/** `switchyard config schema|check`: the published JSON Schema, and a dry validation. */
export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('the configuration file');
  config
    .command('schema')
    .description('print the JSON Schema of the configuration file')
    .action(() => {
      process.stdout.write(`${JSON.stringify(ConfigSchema, null, 2)}\n`);
    });
  config
    .command('check')
    .argument('<file>', 'YAML configuration file')
    .description('validate a configuration file (with the environment) and print the effective settings')
    .action((file: string) => {
      try {
        const c = loadConfig(file);
        const shown = {
          ...c,
          storage: { ...c.storage, postgresUrl: c.storage.postgresUrl ? '(set)' : undefined },
          cache: { ...c.cache, redisUrl: c.cache.redisUrl ? '(set)' : undefined },
        };
        process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
      } catch (e) {
        if (e instanceof ConfigError) throw new CliError(e.message, EXIT.invalid);
        throw e;
      }
    });
}
