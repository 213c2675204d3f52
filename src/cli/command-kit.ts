import { type Command, InvalidArgumentError, Option } from 'commander';
import { AdminClient, DEFAULT_URL, EMBEDDED_TOKEN_FILE, type GlobalOptions } from './admin-client.js';
import { CliError, EXIT } from './exit-codes.js';
import { printJson } from './output.js';

/** Options of every mutating command, on top of the global ones. */
export interface ChangeOptions extends GlobalOptions {
  reason?: string;
  ifVersion?: number;
}

/** Leaves made by adminCommand, which get the global options once everything is registered. */
const leaves = new WeakSet<Command>();

/** A leaf admin command; the global options are added by addGlobalOptions. */
export function adminCommand(parent: Command, nameAndArgs: string, description: string): Command {
  const cmd = parent.command(nameAndArgs).description(description);
  leaves.add(cmd);
  return cmd;
}

/**
 * Declares --url, --token, --json on every admin leaf command, after its own options: on each
 * leaf (not once on the program) so they can be given anywhere on the line and show in that
 * command's --help, under their own heading.
 */
export function addGlobalOptions(root: Command): void {
  const global = (flags: string, help: string) => new Option(flags, help).helpGroup('Global options:');
  for (const cmd of root.commands) {
    addGlobalOptions(cmd);
    if (!leaves.has(cmd)) continue;
    cmd
      .addOption(global('--url <url>', `admin API base URL (default: $SWITCHYARD_URL, else ${DEFAULT_URL})`))
      .addOption(
        global('--token <token>', `admin token (default: $SWITCHYARD_TOKEN, else ./${EMBEDDED_TOKEN_FILE})`),
      )
      .addOption(global('--json', 'print the raw JSON response (for scripts)'));
  }
}

/** Adds --reason: every change is audited, and the reason is what a later reader needs. */
export function withReason(cmd: Command): Command {
  return cmd.option('--reason <text>', 'why this change is made (kept in the audit log)');
}

/** Adds --if-version: optimistic concurrency, sent as If-Match. */
export function withIfVersion(cmd: Command): Command {
  return cmd.option(
    '--if-version <n>',
    'apply only if the record is still at this version (else exit 4)',
    parseInteger('a version number', 1),
  );
}

/**
 * Commander hands option values over as strings; a number that is not one must stop at the
 * command line (usage error, exit 2) rather than reach the server as NaN. Ranges beyond `min`
 * are left to the server, which owns them and names the field when one is out of range.
 */
export function parseInteger(what: string, min = 0): (raw: string) => number {
  return (raw) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected ${what} (an integer >= ${min})`);
    }
    return n;
  };
}

export function parseNumber(what: string): (raw: string) => number {
  return (raw) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) {
      throw new InvalidArgumentError(`expected ${what} (a number)`);
    }
    return n;
  };
}

export const choiceOption = (flags: string, description: string, choices: readonly string[]): Option =>
  new Option(flags, description).choices(choices);

/** Prints the raw response with --json, or the human rendering. */
export function emit<T>(opts: GlobalOptions, result: T, human: (r: T) => void): void {
  if (opts.json) printJson(result);
  else human(result);
}

/** An update with no field to change would still bump the version and fill the audit log. */
export function requireChange<T extends object>(body: T, options: string): T {
  const changes = Object.entries(body).filter(([k, v]) => k !== 'reason' && v !== undefined);
  if (changes.length === 0) {
    throw new CliError(`nothing to change: give at least one of ${options}`, EXIT.usage);
  }
  return body;
}

/**
 * DELETE carries the reason in a body only when one is given (an empty JSON body is refused).
 * Note: the current DELETE routes do not read a body, so the server may not record it yet.
 */
export const reasonBody = (o: ChangeOptions) => (o.reason === undefined ? undefined : { reason: o.reason });

export const connect = (opts: GlobalOptions): AdminClient => AdminClient.fromOptions(opts);
