/** What the CLI's exit status means, so scripts can branch on it. */
export const EXIT = {
  ok: 0,
  /** Anything unexpected. */
  failure: 1,
  /** Wrong command line: unknown command or option, missing argument. */
  usage: 2,
  /** The thing asked for does not exist (HTTP 404). */
  notFound: 3,
  /** A conflict: duplicate id, stale version, revert blocked by later changes (HTTP 409). */
  conflict: 4,
  /** The server rejected the input (HTTP 400, 413, 415) or the configuration is invalid. */
  invalid: 5,
  /** Missing, wrong or insufficient token (HTTP 401, 403). */
  auth: 6,
  /** The server could not be reached, or answered 5xx. */
  unavailable: 7,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
