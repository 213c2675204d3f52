import { Agent } from 'undici';
import type { ModelVersion } from '../registry/types.js';
import type { Cancellation } from './abort-handle.js';
import { CredentialResolver } from './credentials.js';
import { PROVIDER_SPECS } from './provider-specs.js';
import {
  type ProviderClient,
  UpstreamError,
  type UpstreamRequest,
  type UpstreamResponse,
} from './provider-types.js';

export interface ProviderClientOptions {
  /** Time to establish a TCP (and TLS) connection. */
  connectTimeoutMs: number;
  /** Time from sending the request to the response headers (a model's time to first token). */
  headersTimeoutMs: number;
  /** Longest silence between two body chunks (a stalled stream). */
  bodyTimeoutMs: number;
  /** Open connections kept per provider origin. */
  maxConnectionsPerOrigin: number;
  /** How long an idle pooled connection is kept. */
  keepAliveTimeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

interface Target {
  origin: string;
  path: string;
}

/**
 * The provider adapter: one undici Agent (a keep-alive connection pool per origin) shared by
 * every model version, so the request path never pays for a TCP handshake once warm. Both
 * provider kinds go through here; they differ only in path and credential headers.
 */
export class HttpProviderClient implements ProviderClient {
  private readonly agent: Agent;
  private readonly credentials: CredentialResolver;
  private readonly targets = new Map<string, Target>();

  constructor(private readonly opts: ProviderClientOptions) {
    this.credentials = new CredentialResolver(opts.env);
    this.agent = new Agent({
      connections: opts.maxConnectionsPerOrigin,
      keepAliveTimeout: opts.keepAliveTimeoutMs,
      keepAliveMaxTimeout: Math.max(opts.keepAliveTimeoutMs, 600_000),
      headersTimeout: opts.headersTimeoutMs,
      bodyTimeout: opts.bodyTimeoutMs,
      connect: { timeout: opts.connectTimeoutMs },
      pipelining: 1,
    });
  }

  async send(req: UpstreamRequest): Promise<UpstreamResponse> {
    const spec = PROVIDER_SPECS[req.version.providerKind];
    const target = this.target(req.version);
    const headers = spec.headers(
      this.credentials.resolve(req.version.credentialsRef),
      req.stream,
      req.passHeaders,
    );
    if (req.extraHeaders) Object.assign(headers, req.extraHeaders);
    try {
      const res = await this.agent.request({
        origin: target.origin,
        path: target.path,
        method: 'POST',
        headers,
        body: req.body,
        signal: req.signal,
        headersTimeout: req.headersTimeoutMs ?? this.opts.headersTimeoutMs,
        bodyTimeout: req.bodyTimeoutMs ?? this.opts.bodyTimeoutMs,
      });
      return { status: res.statusCode, headers: res.headers, body: res.body };
    } catch (e) {
      throw toUpstreamError(e, req.signal);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private target(version: ModelVersion): Target {
    const key = `${version.providerKind}\u0000${version.endpoint}`;
    let t = this.targets.get(key);
    if (!t) {
      const url = new URL(version.endpoint);
      t = {
        origin: url.origin,
        path: PROVIDER_SPECS[version.providerKind].resourcePath(url.pathname) + url.search,
      };
      this.targets.set(key, t);
    }
    return t;
  }
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/** Maps whatever the HTTP client threw to one of the gateway's failure kinds. */
export function toUpstreamError(e: unknown, signal?: Cancellation): UpstreamError {
  if (e instanceof UpstreamError) return e;
  if (signal?.aborted) return new UpstreamError('aborted', 'the upstream call was aborted', { cause: e });
  const code = (e as { code?: unknown }).code;
  const name = (e as { name?: unknown }).name;
  const message = e instanceof Error ? e.message : String(e);
  if (typeof code === 'string') {
    if (CONNECT_CODES.has(code))
      return new UpstreamError('connect', `cannot connect to the provider (${code})`, { cause: e });
    if (TIMEOUT_CODES.has(code))
      return new UpstreamError('timeout', `the provider did not answer in time (${code})`, { cause: e });
    if (RESET_CODES.has(code))
      return new UpstreamError('reset', `the provider connection broke (${code})`, { cause: e });
    if (code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR') {
      return new UpstreamError('aborted', 'the upstream call was aborted', { cause: e });
    }
  }
  if (name === 'AbortError')
    return new UpstreamError('aborted', 'the upstream call was aborted', { cause: e });
  return new UpstreamError('protocol', `the provider call failed: ${message}`, { cause: e });
}
