/**
 * The OpenAI Chat Completions wire format, as the official `openai` npm client sends and reads
 * it: request parsing and minimal validation, the `chat.completion` body, the streamed
 * `chat.completion.chunk` SSE frames ending in `data: [DONE]`, and OpenAI's error envelope
 * `{error: {message, type, param, code}}`.
 */
import type { ModelOutput } from './reply.js';
import type { ParseResult, SimRequest, ToolChoice, ToolResult, ToolSpec } from './sim-request.js';
import { fragments, type RenderedError, type ReplyMeta, type SimError } from './wire-types.js';

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Text of a message's `content`: a string, null, or an array of parts (text parts kept). */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : ''))
    .filter((t) => t.length > 0)
    .join('\n');
}

const fail = (param: string | null, message: string): ParseResult => ({ ok: false, param, message });

function parseTools(tools: unknown): ToolSpec[] | ParseResult {
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) return fail('tools', "Invalid type for 'tools': expected an array.");
  const out: ToolSpec[] = [];
  for (let i = 0; i < tools.length; i++) {
    const tool: unknown = tools[i];
    const fn = isRecord(tool) ? tool.function : undefined;
    if (!isRecord(tool) || tool.type !== 'function' || !isRecord(fn)) {
      return fail(
        `tools[${i}]`,
        `Invalid 'tools[${i}]': expected an object with type 'function' and 'function'.`,
      );
    }
    if (typeof fn.name !== 'string' || !TOOL_NAME.test(fn.name)) {
      return fail(
        `tools[${i}].function.name`,
        `Invalid 'tools[${i}].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`,
      );
    }
    const parameters = fn.parameters ?? { type: 'object', properties: {} };
    if (!isRecord(parameters)) {
      return fail(
        `tools[${i}].function.parameters`,
        `Invalid 'tools[${i}].function.parameters': expected an object.`,
      );
    }
    out.push({
      name: fn.name,
      description: typeof fn.description === 'string' ? fn.description : '',
      parameters,
    });
  }
  return out;
}

function parseToolChoice(choice: unknown, tools: ToolSpec[]): ToolChoice | ParseResult {
  if (choice === undefined || choice === null || choice === 'auto') return { mode: 'auto' };
  if (choice === 'none') return { mode: 'none' };
  if (choice === 'required') return { mode: 'required' };
  if (isRecord(choice) && choice.type === 'function' && isRecord(choice.function)) {
    const name = choice.function.name;
    if (typeof name === 'string' && tools.some((t) => t.name === name)) return { mode: 'tool', name };
    return fail(
      'tool_choice',
      `Invalid value for 'tool_choice': no function named '${String(name)}' was specified in the 'tools' parameter.`,
    );
  }
  return fail(
    'tool_choice',
    "Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or a named function.",
  );
}

function parseResponseFormat(format: unknown): SimRequest['output'] | ParseResult {
  if (format === undefined || format === null) return { kind: 'text' };
  if (!isRecord(format))
    return fail('response_format', "Invalid type for 'response_format': expected an object.");
  switch (format.type) {
    case 'text':
      return { kind: 'text' };
    case 'json_object':
      return { kind: 'json' };
    case 'json_schema': {
      const spec = format.json_schema;
      if (!isRecord(spec) || typeof spec.name !== 'string') {
        return fail(
          'response_format.json_schema.name',
          "Missing required parameter: 'response_format.json_schema.name'.",
        );
      }
      return isRecord(spec.schema) ? { kind: 'json', schema: spec.schema } : { kind: 'json' };
    }
    default:
      return fail(
        'response_format.type',
        `Invalid value: '${String(format.type)}'. Supported values are: 'json_object', 'json_schema', and 'text'.`,
      );
  }
}

export function parseOpenAiRequest(body: unknown): ParseResult {
  if (!isRecord(body)) return fail(null, 'The request body must be a JSON object.');
  if (typeof body.model !== 'string' || body.model.length === 0)
    return fail('model', 'you must provide a model parameter');
  const messages = body.messages;
  if (!Array.isArray(messages)) return fail('messages', "Missing required parameter: 'messages'.");
  if (messages.length === 0)
    return fail('messages', "Invalid 'messages': empty array. Expected an array with minimum length 1.");
  const toolNamesById = new Map<string, string>();
  const system: string[] = [];
  let lastUser = -1;
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    if (!isRecord(m)) return fail(`messages[${i}]`, `Invalid type for 'messages[${i}]': expected an object.`);
    if (typeof m.role !== 'string' || !ROLES.has(m.role)) {
      return fail(
        `messages[${i}].role`,
        `Invalid value: '${String(m.role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
      );
    }
    if (m.role === 'tool' && typeof m.tool_call_id !== 'string') {
      return fail(
        `messages[${i}].tool_call_id`,
        `Missing required parameter: 'messages[${i}].tool_call_id'.`,
      );
    }
    if (m.role === 'system' || m.role === 'developer') system.push(contentText(m.content));
    if (m.role === 'user') lastUser = i;
    if (m.role === 'assistant' && Array.isArray(m.tool_calls)) {
      for (const call of m.tool_calls) {
        if (isRecord(call) && typeof call.id === 'string' && isRecord(call.function)) {
          toolNamesById.set(call.id, String(call.function.name));
        }
      }
    }
  }
  const tools = parseTools(body.tools);
  if (!Array.isArray(tools)) return tools;
  const toolChoice = parseToolChoice(body.tool_choice, tools);
  if ('ok' in toolChoice) return toolChoice;
  const output = parseResponseFormat(body.response_format);
  if ('ok' in output) return output;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (
    maxTokens !== undefined &&
    maxTokens !== null &&
    !(Number.isInteger(maxTokens) && (maxTokens as number) >= 1)
  ) {
    return fail('max_tokens', "Invalid 'max_tokens': expected an integer >= 1.");
  }
  const after = messages.slice(lastUser + 1) as Json[];
  const trailing: ToolResult[] = [];
  for (let i = messages.length - 1; i > lastUser; i--) {
    const m = messages[i] as Json;
    if (m.role !== 'tool' && m.role !== 'function') break;
    const name = m.role === 'function' ? String(m.name) : toolNamesById.get(String(m.tool_call_id));
    trailing.unshift({ ...(name ? { name } : {}), content: contentText(m.content) });
  }
  const streamOptions = body.stream_options;
  return {
    ok: true,
    request: {
      model: body.model,
      system: system.join('\n'),
      lastUserText: lastUser >= 0 ? contentText((messages[lastUser] as Json).content) : '',
      toolRounds: after.filter(
        (m) => m.role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length > 0,
      ).length,
      endsWithToolResult: trailing.length > 0,
      lastToolResults: trailing,
      tools,
      toolChoice,
      output,
      ...(typeof maxTokens === 'number' ? { maxTokens } : {}),
      stream: body.stream === true,
      includeUsage: body.stream === true && isRecord(streamOptions) && streamOptions.include_usage === true,
      identity: JSON.stringify([messages, body.tools ?? null]),
    },
  };
}

function usage(meta: ReplyMeta) {
  return {
    prompt_tokens: meta.promptTokens,
    completion_tokens: meta.completionTokens,
    total_tokens: meta.promptTokens + meta.completionTokens,
  };
}

function finishReason(output: ModelOutput): 'stop' | 'length' | 'tool_calls' {
  if (output.kind === 'tool_call') return 'tool_calls';
  return output.truncated ? 'length' : 'stop';
}

export function openAiCompletion(output: ModelOutput, meta: ReplyMeta) {
  const message =
    output.kind === 'tool_call'
      ? {
          role: 'assistant',
          content: null,
          refusal: null,
          tool_calls: [
            {
              id: `call_${meta.toolCallId}`,
              type: 'function',
              function: { name: output.name, arguments: output.argumentsJson },
            },
          ],
        }
      : { role: 'assistant', content: output.text, refusal: null };
  return {
    id: `chatcmpl-${meta.id}`,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(output) }],
    usage: usage(meta),
    system_fingerprint: 'fp_switchyard_sim',
  };
}

/** The SSE frames of a streamed completion, `data: [DONE]` included. */
export function openAiStreamFrames(
  output: ModelOutput,
  meta: ReplyMeta,
  options: { chunkChars: number; includeUsage: boolean },
): string[] {
  const head = {
    id: `chatcmpl-${meta.id}`,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
  };
  const tail = options.includeUsage ? { usage: null } : {};
  const frame = (delta: Json, finish: string | null = null) =>
    `data: ${JSON.stringify({
      ...head,
      system_fingerprint: 'fp_switchyard_sim',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...tail,
    })}\n\n`;
  const frames: string[] = [];
  if (output.kind === 'tool_call') {
    // First chunk names the call; the arguments follow as fragments, all under index 0.
    frames.push(
      frame({
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            index: 0,
            id: `call_${meta.toolCallId}`,
            type: 'function',
            function: { name: output.name, arguments: '' },
          },
        ],
      }),
    );
    for (const piece of fragments(output.argumentsJson, options.chunkChars, 2)) {
      frames.push(frame({ tool_calls: [{ index: 0, function: { arguments: piece } }] }));
    }
  } else {
    frames.push(frame({ role: 'assistant', content: '', refusal: null }));
    for (const piece of fragments(output.text, options.chunkChars)) frames.push(frame({ content: piece }));
  }
  frames.push(frame({}, finishReason(output)));
  if (options.includeUsage) {
    frames.push(
      `data: ${JSON.stringify({ ...head, system_fingerprint: 'fp_switchyard_sim', choices: [], usage: usage(meta) })}\n\n`,
    );
  }
  frames.push('data: [DONE]\n\n');
  return frames;
}

function envelope(message: string, type: string, param: string | null, code: string | null) {
  return { error: { message, type, param, code } };
}

export function renderOpenAiError(error: SimError): RenderedError {
  switch (error.kind) {
    case 'invalid_request':
      return {
        status: 400,
        body: envelope(error.message, 'invalid_request_error', error.param, null),
        headers: {},
      };
    case 'authentication':
      return {
        status: 401,
        body: envelope('Incorrect API key provided.', 'invalid_request_error', null, 'invalid_api_key'),
        headers: {},
      };
    case 'model_not_found':
      return {
        status: 404,
        body: envelope(
          `The model \`${error.model}\` does not exist or you do not have access to it.`,
          'invalid_request_error',
          null,
          'model_not_found',
        ),
        headers: {},
      };
    case 'rate_limit':
      return {
        status: 429,
        body: envelope(
          `Rate limit reached for requests. Please try again in ${error.retryAfterSeconds}s.`,
          'requests',
          null,
          'rate_limit_exceeded',
        ),
        headers: { 'retry-after': String(error.retryAfterSeconds) },
      };
    case 'server_error':
      return {
        status: 500,
        body: envelope(
          'The server had an error while processing your request. Sorry about that!',
          'server_error',
          null,
          null,
        ),
        headers: {},
      };
    case 'overloaded':
      return {
        status: 503,
        body: envelope(
          'The engine is currently overloaded, please try again later.',
          'server_error',
          null,
          null,
        ),
        headers: {},
      };
    case 'route_not_found':
      return {
        status: 404,
        body: envelope(`Invalid URL (${error.method} ${error.path})`, 'invalid_request_error', null, null),
        headers: {},
      };
    case 'too_large':
      return {
        status: 413,
        body: envelope('The request body is too large.', 'invalid_request_error', null, null),
        headers: {},
      };
  }
}
