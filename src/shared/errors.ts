import { randomUUID } from 'node:crypto';

/** One entry of an error's `details`: where in the input something was wrong, and what. */
export interface ErrorDetail {
  /** JSON pointer (`/body/parameters/type`) or a header/query name. */
  path: string;
  message: string;
}

/**
 * The one error type the application throws on purpose. Everything a client can see is here:
 * a stable `code` (documented in docs/errors.md), an HTTP status, a message saying what and
 * where, optional details per path, and a hint saying how to fix it. Anything else thrown is
 * treated as internal and never echoed to a client.
 */
export class SwitchyardError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: ErrorDetail[];
  readonly hint: string | undefined;
  /** A per-instance id a user can quote to an operator (also logged). */
  readonly errorId: string;

  constructor(
    status: number,
    code: string,
    message: string,
    opts: { details?: ErrorDetail[]; hint?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SwitchyardError';
    this.status = status;
    this.code = code;
    this.details = opts.details ?? [];
    this.hint = opts.hint;
    this.errorId = randomUUID();
  }
}

export const invalidInput = (message: string, details: ErrorDetail[] = [], hint?: string) =>
  new SwitchyardError(400, 'invalid_input', message, { details, ...(hint ? { hint } : {}) });

export const notFound = (what: string, id: string) =>
  new SwitchyardError(404, 'not_found', `${what} '${id}' was not found`, {
    hint: `Check the ${what.toLowerCase()} id; list them to see what exists.`,
  });

export const alreadyExists = (what: string, id: string) =>
  new SwitchyardError(409, 'already_exists', `${what} '${id}' already exists`, {
    hint: `Use a different id, or update the existing ${what.toLowerCase()} instead.`,
  });

export const versionConflict = (what: string, id: string, expected: number, actual: number | undefined) =>
  new SwitchyardError(
    409,
    'version_conflict',
    actual === undefined
      ? `${what} '${id}' changed while this request was applied`
      : `${what} '${id}' is at version ${actual}, not ${expected}`,
    { hint: `Read the ${what.toLowerCase()} again and retry with its current version (If-Match).` },
  );

export const unauthenticated = (message = 'missing or invalid credentials') =>
  new SwitchyardError(401, 'unauthenticated', message, {
    hint: 'Send a valid token as "Authorization: Bearer <token>".',
  });

export const forbidden = (message: string) =>
  new SwitchyardError(403, 'forbidden', message, { hint: 'Use a token whose role allows this action.' });

export function isSwitchyardError(e: unknown): e is SwitchyardError {
  return e instanceof SwitchyardError;
}
