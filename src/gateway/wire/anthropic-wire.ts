import type { IncomingHttpHeaders } from 'node:http';
import {
  anthropicToolCallErrorEvent,
  anthropicToolCallErrorResponse,
} from '../../contracts/self-correction-wire.js';
import type { SseEvent } from '../../providers/sse-framer.js';
import type { GatewayError, GatewayErrorKind } from '../gateway-error.js';
import { baseView, firstUser } from './request-view.js';
import {
  type EventVerdict,
  isObject,
  num,
  type ParsedToolCall,
  type ResponseSummary,
  type StreamEventKind,
  type StreamObserver,
  str,
  type WireFormat,
} from './wire-format.js';

const ERROR_TYPES: Record<GatewayErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  not_found: 'not_found_error',
  too_large: 'request_too_large',
  rate_limit: 'rate_limit_error',
  upstream: 'api_error',
  timeout: 'api_error',
  unavailable: 'overloaded_error',
  internal: 'api_error',
};

function errorObject(err: GatewayError) {
  return { type: 'error', error: { type: ERROR_TYPES[err.kind], message: err.message } };
}

/**
 * Watches an Anthropic messages stream: named events (`message_start`, `content_block_*`,
 * `message_delta`, `message_stop`, `ping`, `error`), each with a JSON `data:`.
 */
class AnthropicObserver implements StreamObserver {
  lastKind: StreamEventKind = 'other';
  private text: string | null = null;
  private readonly calls: ParsedToolCall[] = [];
  /** Content-block index -> tool call, for routing `input_json_delta`s. */
  private readonly callAt = new Map<number, ParsedToolCall>();
  private inputTokens: number | null = null;
  private outputTokens: number | null = null;

  constructor(private readonly collect: boolean) {}

  accept(ev: SseEvent): EventVerdict {
    let data: unknown;
    try {
      data = JSON.parse(ev.data);
    } catch {
      return 'malformed';
    }
    if (!isObject(data)) return 'malformed';
    const type = ev.event ?? str(data.type);
    this.lastKind = 'other';
    switch (type) {
      case 'message_stop':
        return 'terminal';
      case 'error':
        return 'error';
      case 'message_start':
        this.lastKind = 'preamble';
        if (isObject(data.message) && isObject(data.message.usage)) this.usage(data.message.usage);
        return 'ok';
      case 'ping':
        this.lastKind = 'preamble';
        return 'ok';
      case 'message_delta':
        if (isObject(data.usage)) this.usage(data.usage);
        return 'ok';
      case 'content_block_start':
        this.blockStart(data);
        return 'ok';
      case 'content_block_delta':
        this.lastKind = this.callAt.has(num(data.index) ?? -1) ? 'tool' : 'text';
        if (this.collect) this.blockDelta(data);
        return 'ok';
      case 'content_block_stop':
        if (this.callAt.has(num(data.index) ?? -1)) this.lastKind = 'tool';
        return 'ok';
      default:
        return 'ok';
    }
  }

  private usage(u: Record<string, unknown>): void {
    this.inputTokens = num(u.input_tokens) ?? this.inputTokens;
    this.outputTokens = num(u.output_tokens) ?? this.outputTokens;
  }

  private blockStart(data: Record<string, unknown>): void {
    const block = data.content_block;
    if (!isObject(block)) return;
    if (block.type === 'tool_use') {
      this.lastKind = 'tool';
      const call: ParsedToolCall = { id: str(block.id), name: str(block.name) ?? '', arguments: '' };
      this.calls.push(call);
      this.callAt.set(num(data.index) ?? -1, call);
      return;
    }
    const text = block.type === 'text' && typeof block.text === 'string' ? block.text : '';
    // An empty text block's start is not worth sending on its own; other blocks (thinking...) are content.
    this.lastKind = text === '' && block.type === 'text' ? 'preamble' : 'text';
    if (this.collect && text) this.text = (this.text ?? '') + text;
  }

  private blockDelta(data: Record<string, unknown>): void {
    const delta = data.delta;
    if (!isObject(delta)) return;
    if (delta.type === 'text_delta' && typeof delta.text === 'string') {
      this.text = (this.text ?? '') + delta.text;
    } else if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string') {
      const call = this.callAt.get(num(data.index) ?? -1);
      if (call) call.arguments += delta.partial_json;
    }
  }

  summary(): ResponseSummary {
    return {
      text: this.text,
      // A streamed tool_use whose input is `{}` may come without any input_json_delta.
      toolCalls: this.collect
        ? this.calls.map((c) => (c.arguments === '' ? { ...c, arguments: '{}' } : c))
        : this.calls,
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
    };
  }
}

function passHeaders(headers: IncomingHttpHeaders): Record<string, string> | undefined {
  const version = headers['anthropic-version'];
  const beta = headers['anthropic-beta'];
  if (typeof version !== 'string' && typeof beta !== 'string') return undefined;
  const out: Record<string, string> = {};
  if (typeof version === 'string') out['anthropic-version'] = version;
  if (typeof beta === 'string') out['anthropic-beta'] = beta;
  return out;
}

/** The Anthropic messages wire format (`POST /v1/messages`). */
export const anthropicWire: WireFormat = {
  kind: 'anthropic',
  providerKind: 'anthropic',

  view: baseView,

  opening(view) {
    const messages = view.body.messages as unknown[];
    return JSON.stringify([view.body.system ?? null, firstUser(messages)?.content ?? null]);
  },

  upstreamBody(view, upstreamModel, stream) {
    return JSON.stringify(
      stream === view.stream
        ? { ...view.body, model: upstreamModel }
        : { ...view.body, model: upstreamModel, stream },
    );
  },

  passHeaders,

  summarize(json) {
    if (!isObject(json) || !Array.isArray(json.content)) return null;
    let text: string | null = null;
    const toolCalls: ParsedToolCall[] = [];
    for (const block of json.content) {
      if (!isObject(block)) continue;
      if (block.type === 'text' && typeof block.text === 'string') text = (text ?? '') + block.text;
      else if (block.type === 'tool_use') {
        toolCalls.push({
          id: str(block.id),
          name: str(block.name) ?? '',
          arguments: JSON.stringify(block.input ?? {}),
        });
      }
    }
    const usage = isObject(json.usage) ? json.usage : {};
    return { text, toolCalls, inputTokens: num(usage.input_tokens), outputTokens: num(usage.output_tokens) };
  },

  observer: (collect) => new AnthropicObserver(collect),

  errorBody: (err) => JSON.stringify(errorObject(err)),

  // The official SDK raises an APIError for an `error` event.
  streamError: (err) => `event: error\ndata: ${JSON.stringify(errorObject(err))}\n\n`,

  toolCallErrorResponse: anthropicToolCallErrorResponse,
  toolCallErrorEvent: anthropicToolCallErrorEvent,

  withToolArguments(json, replace) {
    let position = 0;
    const content = isObject(json) && Array.isArray(json.content) ? json.content : [];
    for (const block of content) {
      if (!isObject(block) || block.type !== 'tool_use') continue;
      if (replace.has(position)) block.input = replace.get(position);
      position++;
    }
    return JSON.stringify(json);
  },

  rewriteToolEvents(events, first, replace) {
    // Content-block index -> call position, for the tool_use blocks started among these events.
    const positionOf = new Map<number, number>();
    let next = first;
    let out = '';
    const emit = (type: string, data: unknown) => {
      out += `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
    };
    for (const ev of events) {
      const data = JSON.parse(ev.data) as Record<string, unknown>;
      const type = ev.event ?? str(data.type) ?? '';
      const index = num(data.index) ?? -1;
      if (
        type === 'content_block_start' &&
        isObject(data.content_block) &&
        data.content_block.type === 'tool_use'
      )
        positionOf.set(index, next++);
      const position = positionOf.get(index);
      const replaced = position !== undefined && replace.has(position);
      if (replaced && type === 'content_block_delta') continue;
      if (replaced && type === 'content_block_stop') {
        emit('content_block_delta', {
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: JSON.stringify(replace.get(position)) },
        });
      }
      out += ev.event === null ? `data: ${ev.data}\n\n` : `event: ${ev.event}\ndata: ${ev.data}\n\n`;
    }
    return out;
  },
};
