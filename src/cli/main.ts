import { Command, CommanderError } from 'commander';
import { registerAdminCommands } from './admin-commands.js';
import { registerClusterCommand } from './cluster-command.js';
import { registerClassifyCommands } from './commands/classify.js';
import { registerUpgradeCommands } from './commands/upgrades.js';
import { registerConfigCommands } from './config-commands.js';
import { CliError, EXIT } from './exit-codes.js';
import { registerServeCommand } from './serve-command.js';
import { registerSimulateCommand } from './simulate-command.js';
import { registerSimulatorCommand } from './simulator-command.js';

/**
 * `switchyard`: runs the server (`serve`) and administers a running one over its admin API.
 * Exit codes are documented in exit-codes.ts and the README.
 */
const program = new Command()
  .name('switchyard')
  .description('Per-tenant model-upgrade gateway for multi-tenant AI agent platforms')
  .showHelpAfterError()
  .exitOverride();

registerServeCommand(program);
registerClusterCommand(program);
registerSimulatorCommand(program);
registerSimulateCommand(program);
registerConfigCommands(program);
// Before registerAdminCommands, which adds the global options to every admin command.
registerClassifyCommands(program);
registerUpgradeCommands(program);
registerAdminCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else if (e instanceof CliError) {
    process.stderr.write(`switchyard: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else {
    process.stderr.write(`switchyard: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = EXIT.failure;
  }
}
