import type { Readable } from 'node:stream';
import type { ModelVersion } from '../registry/types.js';
import type { AbortHandle } from './abort-handle.js';

/** One call to a model version's provider. The body is already rewritten for that version. */
export interface UpstreamRequest {
  readonly version: ModelVersion;
  /** JSON text of the request body, with `model` set to the version's upstream model. */
  readonly body: string;
  /** The caller asked for server-sent events (sets the Accept header). */
  readonly stream: boolean;
  /** Provider headers the client chose and the provider must see (e.g. `anthropic-version`). */
  readonly passHeaders?: Readonly<Record<string, string>> | undefined;
  /** Headers the gateway adds for the provider (e.g. `x-switchyard-tenant` for the simulator). */
  readonly extraHeaders?: Readonly<Record<string, string>> | undefined;
  /** Aborted when the client goes away or the gateway gives up: the upstream call stops too. */
  readonly signal: AbortHandle | AbortSignal;
  /** Overrides the configured time limits for this call (shadow calls may use shorter ones). */
  readonly headersTimeoutMs?: number | undefined;
  readonly bodyTimeoutMs?: number | undefined;
}

export type UpstreamHeaders = Record<string, string | string[] | undefined>;

/**
 * What the provider answered, before its body is read: the gateway decides from the status and
 * content type whether to relay, buffer or replace it. The body must be consumed or destroyed,
 * or the pooled connection leaks.
 */
export interface UpstreamResponse {
  readonly status: number;
  readonly headers: UpstreamHeaders;
  readonly body: Readable;
}

/** The provider port the gateway depends on; `HttpProviderClient` is the adapter. */
export interface ProviderClient {
  send(req: UpstreamRequest): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

/**
 * Why an upstream call produced no usable answer, independent of the HTTP client library:
 *   connect      no connection could be made (refused, DNS, connect timeout)
 *   timeout      no headers or no body bytes within the configured time
 *   reset        the connection broke mid-response
 *   aborted      the gateway aborted it (client disconnected, or shutdown)
 *   credentials  the version's credential is not configured in this process
 *   too_large    the response is larger than the gateway accepts
 *   protocol     the answer was not HTTP, JSON or SSE as promised
 */
export type UpstreamFailureKind =
  | 'connect'
  | 'timeout'
  | 'reset'
  | 'aborted'
  | 'credentials'
  | 'too_large'
  | 'protocol';

export class UpstreamError extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    message: string,
    opts: { cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'UpstreamError';
  }
}

export function isUpstreamError(e: unknown): e is UpstreamError {
  return e instanceof UpstreamError;
}

/** First value of a header as a string (undici gives arrays for repeated headers). */
export function headerValue(headers: UpstreamHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
