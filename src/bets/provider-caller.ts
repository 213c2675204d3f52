import {
  headerValue,
  isUpstreamError,
  type ProviderClient,
  type UpstreamHeaders,
} from '../providers/provider-types.js';
import { discardBody, readBody, tryParseJson } from '../providers/read-body.js';
import type { ModelVersion } from '../registry/types.js';
import { AbortedError, type ProviderRateLimits } from './rate-limit.js';

export interface RetryPolicy {
  /** Calls in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the call fails instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
};

/** A provider call that produced no answer, after the retries it deserved. */
export class CallFailed extends Error {
  constructor(
    message: string,
    readonly providerCalls: number,
  ) {
    super(message);
    this.name = 'CallFailed';
  }
}

export interface CallResult {
  json: unknown;
  providerCalls: number;
  /** Time spent in provider calls (waits for tokens and backoff excluded). */
  latencyMs: number;
}

export interface CallerOptions {
  /** Send `x-switchyard-tenant` with each call (the simulator scopes drift by it; off for real providers). */
  tenantHeader?: boolean;
  retry?: RetryPolicy;
  maxResponseBytes?: number;
  /** Injectable for tests: jitter source. */
  random?: () => number;
}

const RETRYABLE_KINDS = new Set(['connect', 'timeout', 'reset', 'protocol']);

/** Retry-After in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(headers: UpstreamHeaders, now = Date.now()): number | undefined {
  const raw = headerValue(headers, 'retry-after');
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(t);
      reject(new AbortedError());
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

type Outcome =
  | { kind: 'ok'; json: unknown }
  | { kind: 'retry'; reason: string; afterMs?: number }
  | { kind: 'fail'; reason: string };

/**
 * One logical call to a model version through the provider port: waits for the provider's rate
 * limit, bounds each try by a timeout, retries 429, 5xx, broken connections and unreadable
 * bodies with exponential backoff (equal jitter), and honours Retry-After, which also pauses
 * every other caller of that provider. A 4xx other than 429 is the request's fault: no retry.
 */
export class ProviderCaller {
  private readonly retry: RetryPolicy;
  private readonly maxBytes: number;
  private readonly random: () => number;

  private readonly tenantHeader: boolean;
  constructor(
    private readonly client: ProviderClient,
    private readonly limits: ProviderRateLimits,
    opts: CallerOptions = {},
  ) {
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.maxBytes = opts.maxResponseBytes ?? 8 * 1024 * 1024;
    this.random = opts.random ?? Math.random;
    this.tenantHeader = opts.tenantHeader === true;
  }

  async call(
    version: ModelVersion,
    body: string,
    signal: AbortSignal,
    timeoutMs: number,
    tenantId?: string,
  ): Promise<CallResult> {
    const headers = this.tenantHeader && tenantId ? { 'x-switchyard-tenant': tenantId } : undefined;
    const bucket = this.limits.forVersion(version);
    let latencyMs = 0;
    let last = '';
    for (let attempt = 1; attempt <= this.retry.maxAttempts; attempt++) {
      await bucket?.acquire(signal);
      const started = performance.now();
      const outcome = await this.once(version, body, signal, timeoutMs, headers);
      latencyMs += performance.now() - started;
      if (outcome.kind === 'ok') return { json: outcome.json, providerCalls: attempt, latencyMs };
      if (outcome.kind === 'fail') throw new CallFailed(outcome.reason, attempt);
      last = outcome.reason;
      if (outcome.afterMs !== undefined) {
        if (outcome.afterMs > this.retry.maxRetryAfterMs) {
          throw new CallFailed(
            `${outcome.reason}; Retry-After ${Math.round(outcome.afterMs / 1000)} s is too long to wait`,
            attempt,
          );
        }
        bucket?.pauseUntil(Date.now() + outcome.afterMs);
      }
      if (attempt === this.retry.maxAttempts) break;
      const exp = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
      const backoff = exp / 2 + (this.random() * exp) / 2;
      await sleep(Math.max(backoff, outcome.afterMs ?? 0), signal);
    }
    throw new CallFailed(
      `${last} (gave up after ${this.retry.maxAttempts} attempts)`,
      this.retry.maxAttempts,
    );
  }

  /**
   * One try. The time limit is the client's own headers and body timeouts (a non-streamed
   * answer arrives at once after the model's think time), not an extra timer per call.
   */
  private async once(
    version: ModelVersion,
    body: string,
    signal: AbortSignal,
    timeoutMs: number,
    extraHeaders?: Readonly<Record<string, string>>,
  ): Promise<Outcome> {
    try {
      const res = await this.client.send({
        version,
        body,
        stream: false,
        signal,
        ...(extraHeaders ? { extraHeaders } : {}),
        headersTimeoutMs: timeoutMs,
        bodyTimeoutMs: timeoutMs,
      });
      if (res.status >= 200 && res.status < 300) {
        const json = tryParseJson(await readBody(res.body, this.maxBytes, signal));
        return json === undefined
          ? { kind: 'retry', reason: `the provider answered HTTP ${res.status} with a body that is not JSON` }
          : { kind: 'ok', json };
      }
      if (res.status === 429 || res.status >= 500) {
        discardBody(res.body);
        const afterMs = retryAfterMs(res.headers);
        return {
          kind: 'retry',
          reason: `the provider answered HTTP ${res.status}`,
          ...(afterMs !== undefined ? { afterMs } : {}),
        };
      }
      const text = (await readBody(res.body, 64 * 1024, signal).catch(() => Buffer.alloc(0))).toString(
        'utf8',
      );
      return {
        kind: 'fail',
        reason: `the provider refused the request: HTTP ${res.status} ${text.slice(0, 300)}`,
      };
    } catch (e) {
      if (signal.aborted) throw new AbortedError();
      if (isUpstreamError(e)) {
        if (e.kind === 'timeout')
          return { kind: 'retry', reason: `no answer within ${timeoutMs} ms (${e.message})` };
        if (RETRYABLE_KINDS.has(e.kind)) return { kind: 'retry', reason: e.message };
        return { kind: 'fail', reason: e.message };
      }
      return { kind: 'retry', reason: `the provider call failed: ${(e as Error).message}` };
    }
  }
}
