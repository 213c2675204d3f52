import type { Command } from 'commander';

/** Registered by the admin client commands (tenants, models, contracts, groups, audit, revert). */
export function registerAdminCommands(_program: Command): void {}
