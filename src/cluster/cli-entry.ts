import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** How to start the `switchyard` CLI in a child process: Node's arguments before the script, and the script. */
export interface CliEntry {
  execArgv: string[];
  script: string;
}

/**
 * The CLI entry this module runs under, for child processes: the compiled `dist/cli/main.js` when
 * this file is compiled, else `src/cli/main.ts` through tsx, as `bin/switchyard.js` and the test
 * helper `startServerProcess` run it. The tsx loader is passed by absolute URL, so children may
 * run in any working directory.
 */
export function cliEntry(moduleUrl: string = import.meta.url): CliEntry {
  const compiled = moduleUrl.endsWith('.js');
  const script = fileURLToPath(new URL(`../cli/main.${compiled ? 'js' : 'ts'}`, moduleUrl));
  if (compiled) return { execArgv: [], script };
  const tsx = createRequire(moduleUrl).resolve('tsx');
  return { execArgv: ['--import', pathToFileURL(tsx).href], script };
}
