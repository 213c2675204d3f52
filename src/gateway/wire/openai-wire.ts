import {
  openAiToolCallErrorEvent,
  openAiToolCallErrorResponse,
} from '../../contracts/self-correction-wire.js';
import type { SseEvent } from '../../providers/sse-framer.js';
import type { GatewayError, GatewayErrorKind } from '../gateway-error.js';
import { baseView, firstUser } from './request-view.js';
import {
  type EventVerdict,
  isObject,
  num,
  type ParsedToolCall,
  type RequestView,
  type ResponseSummary,
  type StreamEventKind,
  type StreamObserver,
  str,
  type WireFormat,
} from './wire-format.js';

const ERROR_TYPES: Record<GatewayErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  // OpenAI itself answers a bad key with type invalid_request_error and code invalid_api_key.
  authentication: 'invalid_request_error',
  not_found: 'invalid_request_error',
  too_large: 'invalid_request_error',
  rate_limit: 'rate_limit_error',
  upstream: 'server_error',
  timeout: 'server_error',
  unavailable: 'server_error',
  internal: 'server_error',
};

function errorObject(err: GatewayError) {
  return { error: { message: err.message, type: ERROR_TYPES[err.kind], param: err.param, code: err.code } };
}

/** The message's well-formed tool calls with their `function` objects, in order. */
function callEntries(
  message: Record<string, unknown>,
): Array<{ call: ParsedToolCall; fn: Record<string, unknown> }> {
  const calls = message.tool_calls;
  if (!Array.isArray(calls)) return [];
  const out: Array<{ call: ParsedToolCall; fn: Record<string, unknown> }> = [];
  for (const c of calls) {
    if (!isObject(c) || !isObject(c.function)) continue;
    const name = str(c.function.name);
    if (name === null) continue;
    out.push({ call: { id: str(c.id), name, arguments: str(c.function.arguments) ?? '' }, fn: c.function });
  }
  return out;
}

function firstMessage(json: unknown): Record<string, unknown> {
  const first = isObject(json) && Array.isArray(json.choices) ? json.choices[0] : undefined;
  return isObject(first) && isObject(first.message) ? first.message : {};
}

/** Rank of event kinds within one chunk: a chunk with a tool delta is a tool event, and so on. */
const KIND_RANK: Record<StreamEventKind, number> = { preamble: 0, other: 1, text: 2, tool: 3 };

function chunkKind(choices: unknown[]): StreamEventKind {
  let kind: StreamEventKind = 'other';
  let rank = -1;
  for (const choice of choices) {
    if (!isObject(choice)) continue;
    const delta = isObject(choice.delta) ? choice.delta : {};
    let k: StreamEventKind;
    if (Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) k = 'tool';
    else if ((typeof delta.content === 'string' && delta.content !== '') || typeof delta.refusal === 'string')
      k = 'text';
    else if (choice.finish_reason !== null && choice.finish_reason !== undefined) k = 'other';
    else k = 'preamble';
    if (KIND_RANK[k] > rank) {
      kind = k;
      rank = KIND_RANK[k];
    }
  }
  return kind;
}

/**
 * One held chunk with replaced calls' argument fragments taken out; the first delta of a
 * replaced call carries its whole new arguments instead. Null when nothing is left to send.
 */
function rewriteChunk(
  data: string,
  replace: ReadonlyMap<number, unknown>,
  placed: Set<number>,
): string | null {
  if (data === '[DONE]') return data;
  const chunk = JSON.parse(data) as Record<string, unknown>;
  if (!Array.isArray(chunk.choices)) return data;
  let keep = chunk.usage !== undefined && chunk.usage !== null;
  for (const choice of chunk.choices) {
    if (!isObject(choice)) continue;
    if (choice.finish_reason !== null && choice.finish_reason !== undefined) keep = true;
    const delta = isObject(choice.delta) ? choice.delta : {};
    if (!Array.isArray(delta.tool_calls)) {
      keep = true;
      continue;
    }
    const kept = delta.tool_calls.filter((d) => {
      const index = isObject(d) ? num(d.index) : null;
      if (index === null || !replace.has(index) || !isObject(d)) return true;
      const fn = isObject(d.function) ? d.function : {};
      if (placed.has(index)) {
        delete fn.arguments;
        return typeof fn.name === 'string' || typeof d.id === 'string';
      }
      placed.add(index);
      d.function = { ...fn, arguments: JSON.stringify(replace.get(index)) };
      return true;
    });
    delta.tool_calls = kept;
    if (kept.length > 0 || typeof delta.role === 'string' || typeof delta.content === 'string') keep = true;
  }
  return keep ? JSON.stringify(chunk) : null;
}

/**
 * Watches an OpenAI chat-completion stream: every `data:` is a JSON chunk until `[DONE]`.
 * Tool calls arrive as deltas keyed by index (name in the first, arguments in pieces).
 */
class OpenAiObserver implements StreamObserver {
  lastKind: StreamEventKind = 'other';
  private text: string | null = null;
  private readonly calls: ParsedToolCall[] = [];
  private inputTokens: number | null = null;
  private outputTokens: number | null = null;

  constructor(private readonly collect: boolean) {}

  accept(ev: SseEvent): EventVerdict {
    this.lastKind = 'other';
    if (ev.data === '[DONE]') return 'terminal';
    let chunk: unknown;
    try {
      chunk = JSON.parse(ev.data);
    } catch {
      return 'malformed';
    }
    if (!isObject(chunk)) return 'malformed';
    if (chunk.error !== undefined && chunk.error !== null) return 'error';
    if (isObject(chunk.usage)) {
      this.inputTokens = num(chunk.usage.prompt_tokens) ?? this.inputTokens;
      this.outputTokens = num(chunk.usage.completion_tokens) ?? this.outputTokens;
    }
    const choices = chunk.choices;
    // Chunks without choices exist (usage-only, content-filter notes); they are still valid.
    if (!Array.isArray(choices)) return 'ok';
    this.lastKind = chunkKind(choices);
    for (const choice of choices) {
      if (!isObject(choice) || !isObject(choice.delta)) continue;
      const delta = choice.delta;
      if (this.collect && typeof delta.content === 'string') this.text = (this.text ?? '') + delta.content;
      if (Array.isArray(delta.tool_calls)) this.toolDeltas(delta.tool_calls);
    }
    return 'ok';
  }

  private toolDeltas(deltas: unknown[]): void {
    for (const d of deltas) {
      if (!isObject(d)) continue;
      const index = num(d.index) ?? this.calls.length;
      const fn = isObject(d.function) ? d.function : {};
      let call = this.calls[index];
      if (!call) {
        call = { id: str(d.id), name: str(fn.name) ?? '', arguments: '' };
        this.calls[index] = call;
      } else if (typeof fn.name === 'string' && call.name === '') {
        call.name = fn.name;
      }
      if (this.collect && typeof fn.arguments === 'string') call.arguments += fn.arguments;
    }
  }

  summary(): ResponseSummary {
    return {
      text: this.text,
      toolCalls: this.calls.filter((c) => c !== undefined),
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
    };
  }
}

/** The OpenAI chat-completions wire format (`POST /v1/chat/completions`). */
export const openAiWire: WireFormat = {
  kind: 'openai',
  providerKind: 'openai-compatible',

  view: baseView,

  opening(view: RequestView): string {
    const messages = view.body.messages as unknown[];
    const system: unknown[] = [];
    for (const m of messages) {
      if (!isObject(m)) continue;
      if (m.role === 'system' || m.role === 'developer') system.push(m.content);
      else break;
    }
    return JSON.stringify([system, firstUser(messages)?.content ?? null]);
  },

  upstreamBody(view, upstreamModel, stream) {
    if (stream === view.stream) return JSON.stringify({ ...view.body, model: upstreamModel });
    const { stream_options: _omit, ...rest } = view.body;
    return JSON.stringify({ ...rest, model: upstreamModel, stream });
  },

  passHeaders: () => undefined,

  summarize(json) {
    if (!isObject(json) || !Array.isArray(json.choices)) return null;
    const message = firstMessage(json);
    const usage = isObject(json.usage) ? json.usage : {};
    return {
      text: str(message.content),
      toolCalls: callEntries(message).map((e) => e.call),
      inputTokens: num(usage.prompt_tokens),
      outputTokens: num(usage.completion_tokens),
    };
  },

  observer: (collect) => new OpenAiObserver(collect),

  errorBody: (err) => JSON.stringify(errorObject(err)),

  // The official SDK raises an APIError for a chunk carrying `error`.
  streamError: (err) => `data: ${JSON.stringify(errorObject(err))}\n\n`,

  toolCallErrorResponse: openAiToolCallErrorResponse,
  toolCallErrorEvent: openAiToolCallErrorEvent,

  withToolArguments(json, replace) {
    const entries = callEntries(firstMessage(json));
    for (const [i, args] of replace) {
      const entry = entries[i];
      if (entry) entry.fn.arguments = JSON.stringify(args);
    }
    return JSON.stringify(json);
  },

  rewriteToolEvents(events, _first, replace) {
    const placed = new Set<number>();
    let out = '';
    for (const ev of events) {
      const data = rewriteChunk(ev.data, replace, placed);
      if (data !== null) out += `data: ${data}\n\n`;
    }
    return out;
  },
};
