import type { IncomingHttpHeaders } from 'node:http';
import type { SelfCorrectionError } from '../../contracts/self-correction.js';
import type { WireResponse } from '../../contracts/self-correction-wire.js';
import type { SseEvent } from '../../providers/sse-framer.js';
import type { ProviderKind } from '../../registry/types.js';
import type { GatewayError } from '../gateway-error.js';

export type WireKind = 'openai' | 'anthropic';

/** A tool call as the model made it, in either wire format. */
export interface ParsedToolCall {
  id: string | null;
  name: string;
  /** The arguments as JSON text (OpenAI sends text; Anthropic's `input` object is serialized). */
  arguments: string;
}

/** What the gateway learns from an answer: for telemetry, shadow comparison and contract checks. */
export interface ResponseSummary {
  text: string | null;
  toolCalls: ParsedToolCall[];
  inputTokens: number | null;
  outputTokens: number | null;
}

/** A client request after the single JSON.parse: only what the gateway needs is looked at. */
export interface RequestView {
  /** The channel the client asked for in `model`. */
  readonly channel: string;
  readonly stream: boolean;
  readonly body: Readonly<Record<string, unknown>>;
}

/**
 * What one forwarded SSE event means:
 *   ok         a normal event, forward it
 *   terminal   the provider's end-of-stream event (forward it; the stream is complete)
 *   error      the provider reported an error in-stream (forward it; the answer failed)
 *   malformed  not valid for this format: do not forward; the gateway ends the stream cleanly
 */
export type EventVerdict = 'ok' | 'terminal' | 'error' | 'malformed';

/**
 * What the last accepted event carried, for holding tool calls back in a stream:
 *   preamble  nothing the client can act on yet (OpenAI's role chunk, Anthropic's message_start,
 *             an empty text block's start, ping)
 *   text      text (or other non-tool content) the client should see at once
 *   tool      part of a tool call (its start, an arguments fragment, its block's stop)
 *   other     anything else (finish reason, usage, message_delta, the end event)
 */
export type StreamEventKind = 'preamble' | 'text' | 'tool' | 'other';

export interface StreamObserver {
  accept(ev: SseEvent): EventVerdict;
  /** The kind of the event `accept` saw last (meaningful after an `ok` or `terminal` verdict). */
  readonly lastKind: StreamEventKind;
  summary(): ResponseSummary;
}

/** Everything that differs between the OpenAI and the Anthropic wire formats. */
export interface WireFormat {
  readonly kind: WireKind;
  /** The provider kind whose versions can serve this format unchanged. */
  readonly providerKind: ProviderKind;
  /** Validates the parsed body just enough to route it; throws GatewayError. */
  view(body: unknown): RequestView;
  /** The conversation's opening (system prompt and first user turn), for session fingerprints. */
  opening(view: RequestView): string;
  /** JSON text to send upstream: the same request with `model` rewritten (and `stream` forced). */
  upstreamBody(view: RequestView, upstreamModel: string, stream: boolean): string;
  /** Client headers the provider must see (e.g. `anthropic-version`). */
  passHeaders(headers: IncomingHttpHeaders): Record<string, string> | undefined;
  /** Summary of a complete JSON answer; null when it is not a valid answer of this format. */
  summarize(json: unknown): ResponseSummary | null;
  /** A stream observer; `collect` keeps text and tool arguments (else only names and usage). */
  observer(collect: boolean): StreamObserver;
  errorBody(err: GatewayError): string;
  /** An in-stream error event, for failures after the client has received bytes. */
  streamError(err: GatewayError): string;
  /** Contract failures (policy `error`) as a whole response: 422 in this format's error shape. */
  toolCallErrorResponse(errors: readonly SelfCorrectionError[]): WireResponse;
  /** Contract failures as an in-stream error event, once the client has received bytes. */
  toolCallErrorEvent(errors: readonly SelfCorrectionError[]): string;
  /**
   * A complete JSON answer with some tool calls' arguments replaced (coercion). Keys are tool
   * call positions as `summarize` lists them; values are the new arguments (JSON values).
   */
  withToolArguments(json: unknown, replace: ReadonlyMap<number, unknown>): string;
  /**
   * Held stream events (tool-call parts, in order) with some calls' arguments replaced. `first`
   * is the position (as `summary().toolCalls` lists them) of the first call among the events.
   */
  rewriteToolEvents(
    events: readonly SseEvent[],
    first: number,
    replace: ReadonlyMap<number, unknown>,
  ): string;
}

export const EMPTY_SUMMARY: ResponseSummary = Object.freeze({
  text: null,
  toolCalls: [],
  inputTokens: null,
  outputTokens: null,
}) as ResponseSummary;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
