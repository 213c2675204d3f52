import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { type SelfCorrectionError, toSelfCorrectionError } from './self-correction.js';
import {
  anthropicCorrectionMessage,
  anthropicToolCallErrorEvent,
  anthropicToolCallErrorResponse,
  openAiCorrectionMessage,
  openAiToolCallErrorEvent,
  openAiToolCallErrorResponse,
  type ToolCallErrorReport,
  type WireResponse,
} from './self-correction-wire.js';
import { contractMap, toolContract } from './test-support/contract-fixtures.js';
import { type InvalidToolCall, validateToolCall } from './tool-call-validator.js';

const contracts = contractMap([
  toolContract('get_weather', {
    type: 'object',
    properties: { zip_code: { type: 'string' }, days: { type: 'integer' } },
    required: ['zip_code'],
    additionalProperties: false,
  }),
  toolContract('send_email', { type: 'object', properties: { to: { type: 'string' } } }),
]);

function invalid(call: Parameters<typeof validateToolCall>[1]): InvalidToolCall {
  const out = validateToolCall(contracts, call);
  if (out.valid) throw new Error('expected an invalid call');
  return out;
}

describe('toSelfCorrectionError', () => {
  it('says which argument, what was expected and what came, and proposes the rename', () => {
    const err = toSelfCorrectionError(
      invalid({ name: 'get_weather', argumentsText: '{"zipCode":"94103","days":"3"}', id: 'call_1' }),
      { index: 0 },
    );
    expect(err).toMatchObject({
      type: 'switchyard.tool_call_error',
      kind: 'schema_violation',
      tool: 'get_weather',
      toolCallId: 'call_1',
      index: 0,
      suggestions: [{ action: 'rename_argument', from: '/zipCode', to: '/zip_code' }],
    });
    expect(err.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: '/zip_code', keyword: 'required', got: 'missing' }),
        expect.objectContaining({ path: '/days', keyword: 'type', expected: 'integer', got: 'string "3"' }),
      ]),
    );
    expect(err.message).toContain('argument /days: expected integer, got string "3"');
  });

  it('names the available tools and the closest one for an unknown tool', () => {
    const err = toSelfCorrectionError(invalid({ name: 'getWeather', argumentsText: '{}' }));
    expect(err).toMatchObject({
      kind: 'unknown_tool',
      availableTools: ['get_weather', 'send_email'],
      suggestions: [{ action: 'use_tool', from: 'getWeather', to: 'get_weather' }],
    });
  });

  it('tells the agent to drop the markdown fence', () => {
    const err = toSelfCorrectionError(
      invalid({ name: 'get_weather', argumentsText: '```json\n{"zip_code":"1"}\n```' }),
    );
    expect(err).toMatchObject({ kind: 'unparsable_arguments', reason: 'json_in_markdown' });
    expect(err.suggestions[0]?.action).toBe('remove_fence');
    expect(err.message).toMatch(/without ``` fences/);
  });
});

/** A fetch that answers every request with the given response, so the official SDKs parse it offline. */
function fakeFetch(res: WireResponse | { status: number; headers: Record<string, string>; stream: string }) {
  return async (): Promise<Response> =>
    new Response('stream' in res ? res.stream : res.body, {
      status: res.status,
      headers: 'stream' in res ? { 'content-type': 'text/event-stream' } : res.headers,
    });
}

const errors: SelfCorrectionError[] = [
  toSelfCorrectionError(invalid({ name: 'get_weather', argumentsText: '{"zip_code":94103}', id: 'call_9' }), {
    index: 0,
  }),
];

function openai(fetch: ReturnType<typeof fakeFetch>) {
  return new OpenAI({ apiKey: 'sk-test', baseURL: 'http://switchyard.test/v1', fetch, maxRetries: 2 });
}

function anthropic(fetch: ReturnType<typeof fakeFetch>) {
  return new Anthropic({ apiKey: 'sk-test', baseURL: 'http://switchyard.test', fetch, maxRetries: 2 });
}

const chat = { model: 'gpt-x', messages: [{ role: 'user' as const, content: 'weather?' }] };
const message = {
  model: 'claude-x',
  max_tokens: 100,
  messages: [{ role: 'user' as const, content: 'weather?' }],
};

describe('wire renderings through the official SDKs', () => {
  it('OpenAI: a 422 error body raises UnprocessableEntityError carrying the report, without retries', async () => {
    let calls = 0;
    const fetch = fakeFetch(openAiToolCallErrorResponse(errors));
    const client = openai(async () => {
      calls++;
      return fetch();
    });
    const e = await client.chat.completions.create(chat).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.UnprocessableEntityError);
    const apiError = e as InstanceType<typeof OpenAI.UnprocessableEntityError>;
    expect(apiError.status).toBe(422);
    expect(apiError.code).toBe('tool_call_schema_violation');
    expect(apiError.param).toBe('tool_calls[0].function.arguments/zip_code');
    const report = (apiError.error as { switchyard: ToolCallErrorReport }).switchyard;
    expect(report.errors[0]).toMatchObject({
      tool: 'get_weather',
      errors: [{ path: '/zip_code', expected: 'string' }],
    });
    expect(calls).toBe(1);
  });

  it('Anthropic: a 422 error body raises UnprocessableEntityError carrying the report, without retries', async () => {
    let calls = 0;
    const fetch = fakeFetch(anthropicToolCallErrorResponse(errors));
    const client = anthropic(async () => {
      calls++;
      return fetch();
    });
    const e = await client.messages.create(message).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Anthropic.UnprocessableEntityError);
    const apiError = e as InstanceType<typeof Anthropic.UnprocessableEntityError>;
    expect(apiError.status).toBe(422);
    const body = apiError.error as { error: { type: string; switchyard: ToolCallErrorReport } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.switchyard.errors[0]?.toolCallId).toBe('call_9');
    expect(calls).toBe(1);
  });

  it('OpenAI and Anthropic streams: the in-stream error event raises an APIError with the report', async () => {
    const openAiStream = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] })}\n\n${openAiToolCallErrorEvent(errors)}`;
    const oc = openai(fakeFetch({ status: 200, headers: {}, stream: openAiStream }));
    const oe = await (async () => {
      for await (const _ of await oc.chat.completions.create({ ...chat, stream: true })) {
        // consume
      }
    })().catch((x: unknown) => x);
    expect(oe).toBeInstanceOf(OpenAI.APIError);
    expect(JSON.stringify((oe as InstanceType<typeof OpenAI.APIError>).error)).toContain(
      'switchyard.tool_call_errors',
    );

    const anthropicStream = `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'm', type: 'message', role: 'assistant', model: 'm', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 0 } } })}\n\n${anthropicToolCallErrorEvent(errors)}`;
    const ac = anthropic(fakeFetch({ status: 200, headers: {}, stream: anthropicStream }));
    const ae = await (async () => {
      for await (const _ of await ac.messages.create({ ...message, stream: true })) {
        // consume
      }
    })().catch((x: unknown) => x);
    expect(ae).toBeInstanceOf(Anthropic.APIError);
    expect(String((ae as Error).message)).toContain('switchyard.tool_call_errors');
  });

  it('assistant-message design: both SDKs parse a normal answer whose text is the JSON report', async () => {
    const completion = await openai(
      fakeFetch(openAiCorrectionMessage(errors, { id: 'chatcmpl-1', model: 'gpt-x', created: 1 })),
    ).chat.completions.create(chat);
    const content = completion.choices[0]?.message.content ?? '';
    expect((JSON.parse(content) as ToolCallErrorReport).errors[0]?.kind).toBe('schema_violation');
    expect(completion.choices[0]?.finish_reason).toBe('stop');

    const msg = await anthropic(
      fakeFetch(anthropicCorrectionMessage(errors, { id: 'msg_1', model: 'claude-x' })),
    ).messages.create(message);
    const block = msg.content[0];
    expect(block?.type).toBe('text');
    if (block?.type === 'text')
      expect((JSON.parse(block.text) as ToolCallErrorReport).errors[0]?.tool).toBe('get_weather');
  });
});
