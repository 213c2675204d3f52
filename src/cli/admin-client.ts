import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError, EXIT } from './exit-codes.js';

/** The options every admin command takes (see command-kit.ts). */
export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';
/** Where `switchyard serve` (embedded, default sqlitePath) writes its generated operator token. */
export const EMBEDDED_TOKEN_FILE = '.switchyard/admin-token';

/** A server would rather be declared unreachable than leave a script hanging forever. */
const REQUEST_TIMEOUT_MS = 30_000;

interface ErrorBody {
  error?: {
    code?: string;
    message?: string;
    details?: { path?: string; message?: string }[];
    hint?: string;
    requestId?: string;
  };
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** Sent as `If-Match: "n"`, so the server refuses the change if the record moved on. */
  ifVersion?: number;
}

/** The exit status for an HTTP error status; the mapping scripts rely on (see exit-codes.ts). */
export function exitCodeForStatus(status: number): number {
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status === 400 || status === 413 || status === 415 || status === 422) return EXIT.invalid;
  if (status === 401 || status === 403) return EXIT.auth;
  if (status >= 500) return EXIT.unavailable;
  return EXIT.failure;
}

/** The server's error envelope as a few readable lines: message, each detail, the hint. */
export function formatApiError(status: number, statusText: string, body: unknown): string {
  const e = (body as ErrorBody | null)?.error;
  if (!e?.message) return `the server answered HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
  const lines = [e.code ? `${e.message} (${e.code})` : e.message];
  for (const d of e.details ?? []) lines.push(`  ${d.path ?? '?'}: ${d.message ?? ''}`);
  if (e.hint) lines.push(`hint: ${e.hint}`);
  if (e.requestId) lines.push(`request id: ${e.requestId}`);
  return lines.join('\n');
}

/** Explicit option, then environment, then the token file an embedded server leaves in the cwd. */
export function resolveToken(opts: GlobalOptions, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  if (opts.token) return opts.token;
  if (env.SWITCHYARD_TOKEN) return env.SWITCHYARD_TOKEN;
  const file = resolve(cwd, EMBEDDED_TOKEN_FILE);
  if (!existsSync(file)) return undefined;
  return readFileSync(file, 'utf8').trim() || undefined;
}

export function resolveUrl(opts: GlobalOptions, env: NodeJS.ProcessEnv): string {
  const raw = opts.url ?? env.SWITCHYARD_URL ?? DEFAULT_URL;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new CliError(`--url: '${raw}' is not a URL (expected e.g. ${DEFAULT_URL})`, EXIT.usage);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CliError(`--url: '${raw}' must be an http or https URL`, EXIT.usage);
  }
  // Kept as a string prefix (not resolved against '/') so a server behind a path prefix works.
  return raw.replace(/\/+$/, '');
}

/** One path segment, escaped: ids come from the command line. */
export const seg = (s: string): string => encodeURIComponent(s);

/** A thin client of /admin/v1: JSON in and out, every failure turned into a CliError. */
export class AdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  static fromOptions(opts: GlobalOptions, env = process.env, cwd = process.cwd()): AdminClient {
    return new AdminClient(resolveUrl(opts, env), resolveToken(opts, env, cwd));
  }

  get<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('GET', path, { query });
  }
  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, { body });
  }
  patch<T>(path: string, body: unknown, ifVersion?: number): Promise<T> {
    return this.request<T>('PATCH', path, { body, ifVersion });
  }
  put<T>(path: string, body: unknown, ifVersion?: number): Promise<T> {
    return this.request<T>('PUT', path, { body, ifVersion });
  }
  delete<T>(path: string, body?: unknown, ifVersion?: number): Promise<T> {
    return this.request<T>('DELETE', path, { body, ifVersion });
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    if (!this.token) {
      throw new CliError(
        `no admin token: pass --token, set SWITCHYARD_TOKEN, or run where the embedded server keeps ${EMBEDDED_TOKEN_FILE}`,
        EXIT.auth,
      );
    }
    const url = new URL(`${this.baseUrl}/admin/v1${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      accept: 'application/json',
    };
    // Content-Type only with a body: Fastify rejects an empty body declared as JSON. Unset
    // options are undefined and vanish in JSON.stringify, so the server keeps its defaults.
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (opts.ifVersion !== undefined) headers['if-match'] = `"${opts.ifVersion}"`;

    let res: Response;
    try {
      res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (e) {
      throw new CliError(
        `cannot reach ${this.baseUrl}: ${describeFetchError(e)}\n${UNREACHABLE_HINT}`,
        EXIT.unavailable,
      );
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok)
      throw new CliError(formatApiError(res.status, res.statusText, parsed), exitCodeForStatus(res.status));
    if (parsed === undefined && text) {
      throw new CliError(
        `${method} ${url.pathname}: the server did not answer JSON; is --url a Switchyard server?`,
        EXIT.failure,
      );
    }
    return parsed as T;
  }
}

const UNREACHABLE_HINT = 'hint: is `switchyard serve` running? Check --url or SWITCHYARD_URL.';

function describeFetchError(e: unknown): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) {
    return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  }
  // Node's fetch hides the socket error (ECONNREFUSED, ENOTFOUND) in `cause`.
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message ?? String(e);
}
