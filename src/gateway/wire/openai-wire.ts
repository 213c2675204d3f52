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

function toolCallsOf(message: Record<string, unknown>): ParsedToolCall[] {
  const calls = message.tool_calls;
  if (!Array.isArray(calls)) return [];
  const out: ParsedToolCall[] = [];
  for (const c of calls) {
    if (!isObject(c) || !isObject(c.function)) continue;
    const name = str(c.function.name);
    if (name === null) continue;
    out.push({ id: str(c.id), name, arguments: str(c.function.arguments) ?? '' });
  }
  return out;
}

/**
 * Watches an OpenAI chat-completion stream: every `data:` is a JSON chunk until `[DONE]`.
 * Tool calls arrive as deltas keyed by index (name in the first, arguments in pieces).
 */
class OpenAiObserver implements StreamObserver {
  private text: string | null = null;
  private readonly calls: ParsedToolCall[] = [];
  private inputTokens: number | null = null;
  private outputTokens: number | null = null;

  constructor(private readonly collect: boolean) {}

  accept(ev: SseEvent): EventVerdict {
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
    const first = json.choices[0];
    const message = isObject(first) && isObject(first.message) ? first.message : {};
    const usage = isObject(json.usage) ? json.usage : {};
    return {
      text: str(message.content),
      toolCalls: toolCallsOf(message),
      inputTokens: num(usage.prompt_tokens),
      outputTokens: num(usage.completion_tokens),
    };
  },

  observer: (collect) => new OpenAiObserver(collect),

  errorBody: (err) => JSON.stringify(errorObject(err)),

  // The official SDK raises an APIError for a chunk carrying `error`.
  streamError: (err) => `data: ${JSON.stringify(errorObject(err))}\n\n`,
};
