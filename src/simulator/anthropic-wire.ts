/**
 * The Anthropic Messages wire format, as the official `@anthropic-ai/sdk` client sends and reads
 * it: request parsing and minimal validation (model, max_tokens, messages), the `message` body,
 * the streamed events (message_start, ping, content_block_start/delta/stop, message_delta,
 * message_stop) and Anthropic's error envelope `{type: "error", error: {type, message}}`.
 */
import type { ModelOutput } from './reply.js';
import type { OutputFormat, ParseResult, ToolChoice, ToolResult, ToolSpec } from './sim-request.js';
import { fragments, type RenderedError, type ReplyMeta, type SimError } from './wire-types.js';

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const fail = (param: string | null, message: string): ParseResult => ({ ok: false, param, message });

type Block = Json & { type?: unknown };

function blocks(content: unknown): Block[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? content.filter(isRecord) : [];
}

function textOf(content: unknown): string {
  return blocks(content)
    .map((b) => (b.type === 'text' && typeof b.text === 'string' ? b.text : ''))
    .filter((t) => t.length > 0)
    .join('\n');
}

function parseTools(tools: unknown): ToolSpec[] | ParseResult {
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) return fail('tools', 'tools: Input should be a valid list');
  const out: ToolSpec[] = [];
  for (let i = 0; i < tools.length; i++) {
    const tool: unknown = tools[i];
    if (!isRecord(tool)) return fail(`tools.${i}`, `tools.${i}: Input should be a valid dictionary`);
    // Server tools (web_search, bash...) carry a `type` and no schema; the simulator has none.
    if (typeof tool.type === 'string' && tool.type !== 'custom') continue;
    if (typeof tool.name !== 'string' || !TOOL_NAME.test(tool.name)) {
      return fail(
        `tools.${i}.name`,
        `tools.${i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`,
      );
    }
    if (!isRecord(tool.input_schema))
      return fail(`tools.${i}.input_schema`, `tools.${i}.custom.input_schema: Field required`);
    out.push({
      name: tool.name,
      description: typeof tool.description === 'string' ? tool.description : '',
      parameters: tool.input_schema,
    });
  }
  return out;
}

function parseToolChoice(choice: unknown, tools: ToolSpec[]): ToolChoice | ParseResult {
  if (choice === undefined || choice === null) return { mode: 'auto' };
  if (!isRecord(choice)) return fail('tool_choice', 'tool_choice: Input should be a valid dictionary');
  switch (choice.type) {
    case 'auto':
      return { mode: 'auto' };
    case 'any':
      return { mode: 'required' };
    case 'none':
      return { mode: 'none' };
    case 'tool':
      if (typeof choice.name === 'string' && tools.some((t) => t.name === choice.name)) {
        return { mode: 'tool', name: choice.name };
      }
      return fail('tool_choice', `tool_choice: Tool '${String(choice.name)}' not found in tools`);
    default:
      return fail('tool_choice', "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'");
  }
}

export function parseAnthropicRequest(body: unknown): ParseResult {
  if (!isRecord(body)) return fail(null, 'Request body must be a JSON object');
  if (typeof body.model !== 'string' || body.model.length === 0)
    return fail('model', 'model: Field required');
  if (body.max_tokens === undefined) return fail('max_tokens', 'max_tokens: Field required');
  if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1) {
    return fail('max_tokens', 'max_tokens: Input should be a valid integer greater than or equal to 1');
  }
  const messages = body.messages;
  if (!Array.isArray(messages)) return fail('messages', 'messages: Field required');
  if (messages.length === 0) return fail('messages', 'messages: at least one message is required');
  let lastUser = -1;
  let toolRounds = 0;
  const toolNamesById = new Map<string, string>();
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    if (!isRecord(m)) return fail(`messages.${i}`, `messages.${i}: Input should be a valid dictionary`);
    if (m.role !== 'user' && m.role !== 'assistant') {
      return fail(`messages.${i}.role`, `messages.${i}.role: Input should be 'user' or 'assistant'`);
    }
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) {
      return fail(`messages.${i}.content`, `messages.${i}.content: Input should be a valid string or list`);
    }
    const content = blocks(m.content);
    if (m.role === 'user' && !content.some((b) => b.type === 'tool_result') && textOf(m.content).length > 0) {
      lastUser = i;
      toolRounds = 0;
    }
    if (m.role === 'assistant') {
      const uses = content.filter((b) => b.type === 'tool_use');
      for (const use of uses) if (typeof use.id === 'string') toolNamesById.set(use.id, String(use.name));
      if (uses.length > 0 && lastUser !== -1) toolRounds++;
    }
  }
  const tools = parseTools(body.tools);
  if (!Array.isArray(tools)) return tools;
  const toolChoice = parseToolChoice(body.tool_choice, tools);
  if ('ok' in toolChoice) return toolChoice;
  const last = messages[messages.length - 1] as Json;
  const lastToolResults: ToolResult[] =
    last.role === 'user'
      ? blocks(last.content)
          .filter((b) => b.type === 'tool_result')
          .map((b) => {
            const name = toolNamesById.get(String(b.tool_use_id));
            return {
              ...(name ? { name } : {}),
              content: typeof b.content === 'string' ? b.content : textOf(b.content),
            };
          })
      : [];
  const system = typeof body.system === 'string' ? body.system : textOf(body.system);
  // Structured outputs (`output_format: {type: "json_schema", schema}`) where a client uses them.
  const format = body.output_format;
  const output: OutputFormat =
    isRecord(format) && format.type === 'json_schema'
      ? isRecord(format.schema)
        ? { kind: 'json', schema: format.schema }
        : { kind: 'json' }
      : { kind: 'text' };
  return {
    ok: true,
    request: {
      model: body.model,
      system,
      lastUserText: lastUser >= 0 ? textOf((messages[lastUser] as Json).content) : '',
      toolRounds,
      endsWithToolResult: lastToolResults.length > 0,
      lastToolResults,
      tools,
      toolChoice,
      output,
      maxTokens: body.max_tokens as number,
      stream: body.stream === true,
      includeUsage: false,
      identity: JSON.stringify([body.system ?? null, messages, body.tools ?? null]),
    },
  };
}

function stopReason(output: ModelOutput): 'end_turn' | 'max_tokens' | 'tool_use' {
  if (output.kind === 'tool_call') return 'tool_use';
  return output.truncated ? 'max_tokens' : 'end_turn';
}

function contentBlock(output: ModelOutput, meta: ReplyMeta) {
  return output.kind === 'tool_call'
    ? { type: 'tool_use', id: `toolu_${meta.toolCallId}`, name: output.name, input: output.arguments }
    : { type: 'text', text: output.text };
}

export function anthropicMessage(output: ModelOutput, meta: ReplyMeta) {
  return {
    id: `msg_${meta.id}`,
    type: 'message',
    role: 'assistant',
    model: meta.model,
    content: [contentBlock(output, meta)],
    stop_reason: stopReason(output),
    stop_sequence: null,
    usage: {
      input_tokens: meta.promptTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: meta.completionTokens,
    },
  };
}

function event(type: string, data: Json): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/** The SSE events of a streamed message, in the order the API sends them. */
export function anthropicStreamFrames(
  output: ModelOutput,
  meta: ReplyMeta,
  options: { chunkChars: number },
): string[] {
  const frames: string[] = [];
  const start = anthropicMessage(output, meta);
  frames.push(
    event('message_start', {
      message: {
        ...start,
        content: [],
        stop_reason: null,
        usage: { ...start.usage, output_tokens: 1 },
      },
    }),
  );
  frames.push(event('ping', {}));
  if (output.kind === 'tool_call') {
    frames.push(
      event('content_block_start', {
        index: 0,
        content_block: { type: 'tool_use', id: `toolu_${meta.toolCallId}`, name: output.name, input: {} },
      }),
    );
    frames.push(
      event('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '' } }),
    );
    for (const piece of fragments(output.argumentsJson, options.chunkChars, 2)) {
      frames.push(
        event('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: piece } }),
      );
    }
  } else {
    frames.push(event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
    for (const piece of fragments(output.text, options.chunkChars)) {
      frames.push(event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: piece } }));
    }
  }
  frames.push(event('content_block_stop', { index: 0 }));
  frames.push(
    event('message_delta', {
      delta: { stop_reason: stopReason(output), stop_sequence: null },
      usage: { output_tokens: meta.completionTokens },
    }),
  );
  frames.push(event('message_stop', {}));
  return frames;
}

function envelope(type: string, message: string) {
  return { type: 'error', error: { type, message } };
}

export function renderAnthropicError(error: SimError): RenderedError {
  switch (error.kind) {
    case 'invalid_request':
      return { status: 400, body: envelope('invalid_request_error', error.message), headers: {} };
    case 'authentication':
      return { status: 401, body: envelope('authentication_error', 'invalid x-api-key'), headers: {} };
    case 'model_not_found':
      return { status: 404, body: envelope('not_found_error', `model: ${error.model}`), headers: {} };
    case 'rate_limit':
      return {
        status: 429,
        body: envelope(
          'rate_limit_error',
          'Number of request tokens has exceeded your per-minute rate limit.',
        ),
        headers: { 'retry-after': String(error.retryAfterSeconds) },
      };
    case 'server_error':
      return { status: 500, body: envelope('api_error', 'Internal server error'), headers: {} };
    case 'overloaded':
      return { status: 529, body: envelope('overloaded_error', 'Overloaded'), headers: {} };
    case 'route_not_found':
      return {
        status: 404,
        body: envelope('not_found_error', `Not found: ${error.method} ${error.path}`),
        headers: {},
      };
    case 'too_large':
      return {
        status: 413,
        body: envelope('request_too_large', 'Request exceeds the maximum allowed size.'),
        headers: {},
      };
  }
}
