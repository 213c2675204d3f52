import type { SelfCorrectionError } from './self-correction.js';

/**
 * Self-correction errors in the two wire formats, in two designs:
 *
 * 1. An error response (HTTP 422, or an in-stream error event once a stream has started) in the
 *    provider's own error shape, with the structured report under `error.switchyard`. The
 *    official SDKs raise their usual exception (`UnprocessableEntityError`, an `APIError` for a
 *    stream event) whose `.error` holds the whole object, so agent code catches a typed error,
 *    reads `switchyard.errors` and retries with the correction in the conversation.
 * 2. An assistant message (HTTP 200) whose text is the same report as JSON, for agent loops
 *    that feed assistant text back to the model.
 *
 * The gateway uses (1) for failure policy `error`. An invalid tool call is a failure the agent
 * must not miss: a 200 assistant message looks like a finished answer, so most agent loops stop
 * there and hand the error text to the user as the result, which is exactly the silent failure
 * this layer exists to prevent. A 4xx fails loudly and where the agent already handles API
 * errors. 422 rather than 400 because the client's request was fine (the model's answer was
 * not), so code that special-cases BadRequestError (context length...) does not misread it; the
 * `type` stays the standard `invalid_request_error` so code that switches on known types keeps
 * working. `x-should-retry: false` stops the SDKs' automatic retries: a blind retry re-samples
 * the same version without the correction, costs tokens, and hides the signal (policy
 * `fallback` is the one that retries, on the stable version).
 */

export const TOOL_CALL_ERROR_STATUS = 422;
export const TOOL_CALL_ERROR_HEADER = 'x-switchyard-tool-call-error';

export interface ToolCallErrorReport {
  type: 'switchyard.tool_call_errors';
  errors: SelfCorrectionError[];
}

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function report(errors: readonly SelfCorrectionError[]): ToolCallErrorReport {
  if (errors.length === 0) throw new Error('a tool-call error report needs at least one error');
  return { type: 'switchyard.tool_call_errors', errors: [...errors] };
}

function summary(errors: readonly SelfCorrectionError[]): string {
  const first = errors[0]?.message ?? '';
  return errors.length > 1 ? `${first} (and ${errors.length - 1} more invalid tool calls)` : first;
}

function headers(errors: readonly SelfCorrectionError[]): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-should-retry': 'false',
    [TOOL_CALL_ERROR_HEADER]: errors[0]?.kind ?? 'schema_violation',
  };
}

function openAiErrorObject(errors: readonly SelfCorrectionError[]) {
  const first = errors[0];
  const path = first?.errors[0]?.path ?? '';
  return {
    error: {
      message: summary(errors),
      type: 'invalid_request_error',
      param: first ? `tool_calls[${first.index ?? 0}].function.arguments${path}` : null,
      code: `tool_call_${first?.kind ?? 'schema_violation'}`,
      switchyard: report(errors),
    },
  };
}

function anthropicErrorObject(errors: readonly SelfCorrectionError[]) {
  return {
    type: 'error',
    error: { type: 'invalid_request_error', message: summary(errors), switchyard: report(errors) },
  };
}

/** OpenAI error body (`{error:{message,type,param,code}}`); the SDK raises UnprocessableEntityError. */
export function openAiToolCallErrorResponse(errors: readonly SelfCorrectionError[]): WireResponse {
  return {
    status: TOOL_CALL_ERROR_STATUS,
    headers: headers(errors),
    body: JSON.stringify(openAiErrorObject(errors)),
  };
}

/** Anthropic error body (`{type:'error',error:{type,message}}`); the SDK raises UnprocessableEntityError. */
export function anthropicToolCallErrorResponse(errors: readonly SelfCorrectionError[]): WireResponse {
  return {
    status: TOOL_CALL_ERROR_STATUS,
    headers: headers(errors),
    body: JSON.stringify(anthropicErrorObject(errors)),
  };
}

/** For a stream already under way: an OpenAI chunk carrying `error` (the SDK throws APIError). */
export function openAiToolCallErrorEvent(errors: readonly SelfCorrectionError[]): string {
  return `data: ${JSON.stringify(openAiErrorObject(errors))}\n\n`;
}

/** For a stream already under way: an Anthropic `error` event (the SDK throws APIError). */
export function anthropicToolCallErrorEvent(errors: readonly SelfCorrectionError[]): string {
  return `event: error\ndata: ${JSON.stringify(anthropicErrorObject(errors))}\n\n`;
}

export interface CorrectionMessageMeta {
  id: string;
  model: string;
  /** Epoch seconds (OpenAI `created`). */
  created?: number;
  /** The upstream answer's usage: the tokens were spent even though the call was rejected. */
  usage?: { inputTokens: number; outputTokens: number };
}

/** Design 2, OpenAI: a chat completion whose assistant content is the report as JSON text. */
export function openAiCorrectionMessage(
  errors: readonly SelfCorrectionError[],
  meta: CorrectionMessageMeta,
): WireResponse {
  const usage = meta.usage ?? { inputTokens: 0, outputTokens: 0 };
  const body = {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created ?? Math.floor(Date.now() / 1000),
    model: meta.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: JSON.stringify(report(errors)), refusal: null },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
    usage: {
      prompt_tokens: usage.inputTokens,
      completion_tokens: usage.outputTokens,
      total_tokens: usage.inputTokens + usage.outputTokens,
    },
  };
  return { status: 200, headers: headers(errors), body: JSON.stringify(body) };
}

/** Design 2, Anthropic: a message whose one text block is the report as JSON text. */
export function anthropicCorrectionMessage(
  errors: readonly SelfCorrectionError[],
  meta: CorrectionMessageMeta,
): WireResponse {
  const usage = meta.usage ?? { inputTokens: 0, outputTokens: 0 };
  const body = {
    id: meta.id,
    type: 'message',
    role: 'assistant',
    model: meta.model,
    content: [{ type: 'text', text: JSON.stringify(report(errors)) }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens },
  };
  return { status: 200, headers: headers(errors), body: JSON.stringify(body) };
}
