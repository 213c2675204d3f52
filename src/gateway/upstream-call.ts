import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { SelfCorrectionError } from '../contracts/self-correction.js';
import type { AbortHandle, Cancellation } from '../providers/abort-handle.js';
import { toUpstreamError } from '../providers/http-provider-client.js';
import {
  headerValue,
  type ProviderClient,
  type UpstreamError,
  type UpstreamHeaders,
} from '../providers/provider-types.js';
import { discardBody, readBody, tryParseJson } from '../providers/read-body.js';
import { SseFramer, SseOverflowError } from '../providers/sse-framer.js';
import type { ModelVersion } from '../registry/types.js';
import { GatewayError } from './gateway-error.js';
import { type DecideHeld, type HoldStep, ToolCallHold } from './validation/tool-call-hold.js';
import type { RequestView, ResponseSummary, WireFormat } from './wire/wire-format.js';

/**
 * How one upstream attempt ended:
 *   answer           a valid complete JSON answer, not yet sent to the client
 *   relayed          a stream whose bytes went to the client (errorType set if it failed midway)
 *   upstream_status  the provider answered an error status, not yet sent
 *   failed           no usable answer (transport, timeout, malformed), nothing sent
 *   aborted          the client went away
 *   rejected         a stream whose held tool calls broke the tenant's contracts before anything
 *                    was sent: the exchange falls back or answers the self-correction error
 * Only `relayed` has written to the client; every other attempt can still fall back.
 */
export type Attempt =
  | { kind: 'answer'; status: number; body: Buffer; summary: ResponseSummary }
  | { kind: 'relayed'; summary: ResponseSummary; errorType: string | null; ttfbMs: number }
  | { kind: 'upstream_status'; status: number; body: Buffer; retryAfterMs: number | null }
  | { kind: 'failed'; error: GatewayError; errorType: string }
  | { kind: 'aborted' }
  | {
      kind: 'rejected';
      summary: ResponseSummary;
      reason: 'fallback' | 'error';
      errors: SelfCorrectionError[];
    };

export interface CallInput {
  wire: WireFormat;
  view: RequestView;
  version: ModelVersion;
  passHeaders: Record<string, string> | undefined;
  extraHeaders?: Record<string, string> | undefined;
  signal: AbortHandle;
}

export interface RelayInput extends CallInput {
  res: ServerResponse;
  /** The response headers, built when the first event is forwarded. */
  headers: () => OutgoingHttpHeaders;
  /** Keep text and tool arguments (for shadow comparison and contract checks). */
  collect: boolean;
  /** An error event before anything was forwarded fails the attempt (so it can fall back). */
  holdLeadingError: boolean;
  /** performance.now() when the request arrived, for time to first byte. */
  t0: number;
  /** Hold tool-call events until each group of calls is complete and decided (needs `collect`). */
  hold?: DecideHeld | undefined;
}

export interface UpstreamCallerOptions {
  maxResponseBytes: number;
  maxEventBytes: number;
}

const failed = (
  status: number,
  kind: 'upstream' | 'timeout',
  message: string,
  errorType: string,
): Attempt => ({
  kind: 'failed',
  error: new GatewayError(status, kind, message, { code: errorType }),
  errorType,
});

/** Calls a version's provider and turns every way it can go wrong into an `Attempt`. */
export class UpstreamCaller {
  constructor(
    private readonly provider: ProviderClient,
    private readonly opts: UpstreamCallerOptions,
  ) {}

  /** A non-streamed call: the answer is read whole and checked before anything is sent. */
  async json(input: CallInput): Promise<Attempt> {
    const { wire, version, signal } = input;
    try {
      const up = await this.provider.send({
        version,
        body: wire.upstreamBody(input.view, version.upstreamModel, false),
        stream: false,
        passHeaders: input.passHeaders,
        extraHeaders: input.extraHeaders,
        signal,
      });
      const body = await readBody(up.body, this.opts.maxResponseBytes, signal);
      if (up.status >= 300)
        return { kind: 'upstream_status', status: up.status, body, retryAfterMs: retryAfterMs(up.headers) };
      const summary = wire.summarize(tryParseJson(body));
      if (!summary) {
        return failed(
          502,
          'upstream',
          `the provider of ${version.id} returned an invalid ${wire.kind} response`,
          'upstream_bad_response',
        );
      }
      return { kind: 'answer', status: up.status, body, summary };
    } catch (e) {
      return failure(e, signal, version);
    }
  }

  /**
   * A streamed call: events are relayed to the client as they arrive (whole events, each checked
   * first). Response headers go out with the first event, so a provider that fails before it
   * sends anything can still be replaced by a fallback. A malformed event, a stream that breaks
   * or stalls, or one that ends without its end event after bytes were sent is closed with an
   * error event in the client's format, so the client's SDK raises an error instead of hanging
   * or mis-parsing.
   */
  async relay(input: RelayInput): Promise<Attempt> {
    const { wire, version, signal, res } = input;
    let up: Awaited<ReturnType<ProviderClient['send']>>;
    try {
      up = await this.provider.send({
        version,
        body: wire.upstreamBody(input.view, version.upstreamModel, true),
        stream: true,
        passHeaders: input.passHeaders,
        extraHeaders: input.extraHeaders,
        signal,
      });
    } catch (e) {
      return failure(e, signal, version);
    }
    if (up.status >= 300) {
      try {
        const body = await readBody(up.body, this.opts.maxResponseBytes, signal);
        return { kind: 'upstream_status', status: up.status, body, retryAfterMs: retryAfterMs(up.headers) };
      } catch (e) {
        return failure(e, signal, version);
      }
    }
    const type = headerValue(up.headers, 'content-type') ?? '';
    if (!type.startsWith('text/event-stream')) {
      discardBody(up.body);
      return failed(
        502,
        'upstream',
        `the provider of ${version.id} did not answer with a stream`,
        'upstream_not_streaming',
      );
    }

    const framer = new SseFramer(this.opts.maxEventBytes);
    const observer = wire.observer(input.collect);
    const hold = input.hold ? new ToolCallHold(wire, observer, input.hold) : null;
    let committed = false;
    let ttfbMs = 0;
    let forwarded = 0;
    let terminal = false;
    let upstreamError = false;
    let problem: GatewayError | null = null;
    let stop: Exclude<HoldStep, { kind: 'send' }> | null = null;
    const bad = (message: string, code: string) => new GatewayError(502, 'upstream', message, { code });
    const commit = () => {
      if (committed) return;
      res.writeHead(200, { ...input.headers(), 'content-type': type, 'cache-control': 'no-cache' });
      committed = true;
      ttfbMs = performance.now() - input.t0;
    };
    try {
      for await (const chunk of up.body) {
        // After the end event the client is done; the rest is drained so the connection is reused.
        if (terminal) continue;
        const { complete, events } = framer.push(chunk as Buffer);
        if (!complete) continue;
        let cut = complete.length;
        // With a hold, what goes out is decided event by event (held, released, replaced).
        const out: Buffer[] = [];
        for (let i = 0; i < events.length; i++) {
          const ev = events[i] as (typeof events)[number];
          if (terminal) {
            cut = ev.start;
            break;
          }
          const verdict = observer.accept(ev);
          const nothingSent = hold ? !hold.sent : forwarded === 0;
          if (verdict === 'malformed') {
            problem = bad(
              `the provider of ${version.id} sent a malformed stream event`,
              'upstream_bad_stream',
            );
          } else if (verdict === 'error' && nothingSent && input.holdLeadingError) {
            problem = bad(
              `the provider of ${version.id} failed at the start of the stream`,
              'upstream_stream_error',
            );
          }
          if (problem) {
            cut = ev.start;
            break;
          }
          if (verdict === 'error') upstreamError = true;
          else if (verdict === 'terminal') terminal = true;
          forwarded++;
          if (!hold) continue;
          const bytes = complete.subarray(ev.start, events[i + 1]?.start ?? complete.length);
          // An upstream error event goes out as it is; held tool calls it interrupted are dropped.
          const step: HoldStep =
            verdict === 'error' ? { kind: 'send', bytes: [bytes] } : hold.push(ev, bytes);
          if (step.kind !== 'send') {
            stop = step;
            break;
          }
          if (step.bytes.length > 0) {
            out.push(...step.bytes);
            hold.sent = true;
          }
        }
        if (hold) {
          if (stop?.kind === 'end') {
            commit();
            res.end(Buffer.concat([...out, ...stop.bytes, Buffer.from(stop.event)]));
          } else if (out.length > 0) {
            commit();
            const bytes = out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
            if (terminal) res.end(bytes);
            else if (!res.write(bytes)) await drained(res);
          }
        } else if (cut > 0) {
          commit();
          const bytes = cut === complete.length ? complete : complete.subarray(0, cut);
          // With the end event in hand, the last bytes and the end of the response go out together.
          if (terminal) res.end(bytes);
          else if (!res.write(bytes)) await drained(res);
        }
        if (problem || stop) break;
      }
      if (!problem && !terminal && !stop) {
        problem = bad(
          `the stream from ${version.id} ended before its end event`,
          'upstream_truncated_stream',
        );
      }
    } catch (e) {
      if (terminal) return { kind: 'relayed', summary: observer.summary(), errorType: null, ttfbMs };
      if (signal.aborted) return { kind: 'aborted' };
      if (e instanceof SseOverflowError) problem = bad(e.message, 'upstream_bad_stream');
      else {
        const f = failure(e, signal, version);
        if (f.kind !== 'failed') return f;
        problem = f.error;
      }
    }
    if (stop) {
      up.body.destroy();
      if (stop.kind === 'reject')
        return { kind: 'rejected', summary: observer.summary(), reason: stop.reason, errors: stop.errors };
      return {
        kind: 'relayed',
        summary: observer.summary(),
        errorType: 'tool_call_invalid_in_stream',
        ttfbMs,
      };
    }
    if (problem) {
      up.body.destroy();
      if (!committed) return { kind: 'failed', error: problem, errorType: problem.code ?? 'upstream_error' };
      res.end(wire.streamError(problem));
      return {
        kind: 'relayed',
        summary: observer.summary(),
        errorType: problem.code ?? 'upstream_error',
        ttfbMs,
      };
    }
    return {
      kind: 'relayed',
      summary: observer.summary(),
      errorType: upstreamError ? 'upstream_stream_error' : null,
      ttfbMs,
    };
  }
}

/** Maps a thrown upstream failure to an attempt the gateway can answer with. */
function failure(e: unknown, signal: Cancellation, version: ModelVersion): Attempt {
  if (signal.aborted) return { kind: 'aborted' };
  const u: UpstreamError = toUpstreamError(e, signal);
  switch (u.kind) {
    case 'aborted':
      return { kind: 'aborted' };
    case 'timeout':
      return failed(
        504,
        'timeout',
        `the provider of ${version.id} did not answer in time`,
        'upstream_timeout',
      );
    case 'connect':
      return failed(
        502,
        'upstream',
        `the provider of ${version.id} cannot be reached`,
        'upstream_unreachable',
      );
    case 'credentials':
      return failed(
        502,
        'upstream',
        `the provider credential of ${version.id} is not configured`,
        'upstream_credentials',
      );
    case 'too_large':
      return failed(
        502,
        'upstream',
        `the provider of ${version.id} sent a response that is too large`,
        'upstream_too_large',
      );
    default:
      return failed(
        502,
        'upstream',
        `the connection to the provider of ${version.id} failed`,
        `upstream_${u.kind}`,
      );
  }
}

/**
 * Resolves when the client can take more bytes, or when it went away (the exchange's close
 * handler has then aborted the call, which the caller sees on its signal).
 */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Retry-After (seconds or an HTTP date) or retry-after-ms, in milliseconds; null when absent. */
export function retryAfterMs(headers: UpstreamHeaders): number | null {
  const rawMs = headerValue(headers, 'retry-after-ms');
  if (rawMs !== undefined) {
    const ms = Number(rawMs);
    if (Number.isFinite(ms) && ms >= 0) return ms;
  }
  const v = headerValue(headers, 'retry-after');
  if (v === undefined || v.trim() === '') return null;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}
