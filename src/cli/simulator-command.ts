import type { Command } from 'commander';
import { CliError, EXIT } from './exit-codes.js';

/** `switchyard simulator`: the built-in provider simulator as a standalone server. */
export function registerSimulatorCommand(program: Command): void {
  program
    .command('simulator')
    .description('run the provider simulator (OpenAI and Anthropic wire formats) from a scenario file')
    .argument('<scenario>', 'YAML file with `seed`, `models` (behaviour profiles) and `knownCases`')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '9000')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (scenario: string, opts: { port: string; host: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new CliError(`--port: '${opts.port}' is not a port number (0 to 65535)`, EXIT.usage);
      }
      const { loadSimulatorConfig, startSimulator } = await import('../simulator/index.js');
      const { isSwitchyardError } = await import('../shared/errors.js');
      let loaded: Awaited<ReturnType<typeof loadSimulatorConfig>>;
      try {
        loaded = await loadSimulatorConfig(scenario, { allowOtherKeys: true });
      } catch (e) {
        if (isSwitchyardError(e))
          throw new CliError(
            `${e.message}${e.details.map((d) => `\n  ${d.path}: ${d.message}`).join('')}`,
            EXIT.invalid,
          );
        throw new CliError(`${scenario}: ${(e as Error).message}`, EXIT.invalid);
      }
      const sim = await startSimulator({ ...loaded, port, host: opts.host });
      process.stdout.write(
        `simulator listening on ${sim.url} (models: ${Object.keys(loaded.models).join(', ')}; ${loaded.knownCases.length} known cases)\n`,
      );
      const stop = () => void sim.close().then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}
