import type { Command } from 'commander';
import type { GlobalOptions } from '../admin-client.js';
import { adminCommand, connect, emit } from '../command-kit.js';
import { printRecord } from '../output.js';

/** `status` and `whoami`: is the server healthy, and who does it take this token for. */
export function registerStatusCommands(program: Command): void {
  adminCommand(program, 'status', 'the running server: storage, cache, routing snapshot').action(
    async (o: GlobalOptions) => {
      emit(o, await connect(o).get<Record<string, unknown>>('/status'), printRecord);
    },
  );

  adminCommand(program, 'whoami', 'the role and actor the server sees for this token').action(
    async (o: GlobalOptions) => {
      emit(o, await connect(o).get<Record<string, unknown>>('/whoami'), printRecord);
    },
  );
}
