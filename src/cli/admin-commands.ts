import type { Command } from 'commander';
import { addGlobalOptions } from './command-kit.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerChannelCommands } from './commands/channels.js';
import { registerContractCommands } from './commands/contracts.js';
import { registerGroupCommands } from './commands/groups.js';
import { registerModelCommands } from './commands/models.js';
import { registerStatusCommands } from './commands/status.js';
import { registerSuiteCommands } from './commands/suite-commands.js';
import { registerTenantCommands } from './commands/tenants.js';
import { registerTokenCommands } from './commands/tokens.js';

/**
 * The admin client commands: each is a thin client of a running server's /admin/v1 API, so the
 * CLI and any other client see the same validation, permissions and audit trail.
 */
export function registerAdminCommands(program: Command): void {
  registerTenantCommands(program);
  registerChannelCommands(program);
  registerModelCommands(program);
  registerContractCommands(program);
  registerGroupCommands(program);
  registerAuditCommands(program);
  registerTokenCommands(program);
  registerStatusCommands(program);
  registerSuiteCommands(program);
  addGlobalOptions(program);
}
