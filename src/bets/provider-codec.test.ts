import { describe, expect, it } from 'vitest';
import type { ModelVersion } from '../registry/types.js';
import type { CaseInput } from './bets-types.js';
import { buildRequestBody, parseReply } from './provider-codec.js';

const version = (providerKind: ModelVersion['providerKind']): ModelVersion => ({
  id: 'v',
  channel: 'c',
  providerKind,
  upstreamModel: 'up-model',
  endpoint: 'http://127.0.0.1:9/v1',
  credentialsRef: 'none',
  lifecycle: 'active',
  warmUntil: null,
  version: 1,
  createdAt: '',
  updatedAt: '',
});

const input: CaseInput = {
  system: 'Be terse.',
  messages: [
    { role: 'user', content: 'Weather in Lisbon?' },
    { role: 'assistant', toolCalls: [{ id: 'c1', name: 'get_weather', arguments: { city: 'Lisbon' } }] },
    { role: 'tool', toolCallId: 'c1', content: '21C' },
  ],
  tools: [
    {
      name: 'get_weather',
      description: 'weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } } },
    },
  ],
  toolChoice: 'required',
};

describe('request bodies', () => {
  it('renders the OpenAI chat format', () => {
    expect(JSON.parse(buildRequestBody(version('openai-compatible'), input, 64))).toEqual({
      model: 'up-model',
      max_tokens: 64,
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'Weather in Lisbon?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lisbon"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'c1', content: '21C' },
      ],
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', description: 'weather', parameters: input.tools[0]?.parameters },
        },
      ],
      tool_choice: 'required',
    });
  });

  it('renders the Anthropic messages format, merging turns of one role', () => {
    const body = JSON.parse(
      buildRequestBody(
        version('anthropic'),
        { ...input, messages: [...input.messages, { role: 'user', content: 'And tomorrow?' }] },
        64,
      ),
    );
    expect(body).toMatchObject({
      model: 'up-model',
      max_tokens: 64,
      system: 'Be terse.',
      tool_choice: { type: 'any' },
    });
    expect(body.tools).toEqual([
      { name: 'get_weather', description: 'weather', input_schema: input.tools[0]?.parameters },
    ]);
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Lisbon?' }] },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'c1', name: 'get_weather', input: { city: 'Lisbon' } }],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'c1', content: '21C' },
          { type: 'text', text: 'And tomorrow?' },
        ],
      },
    ]);
  });
});

describe('answers', () => {
  it('reads OpenAI tool calls (unparsable arguments kept raw), text and usage', () => {
    const reply = parseReply('openai-compatible', {
      choices: [
        {
          message: {
            content: null,
            tool_calls: [
              { function: { name: 'f', arguments: '{"a":1}' } },
              { function: { name: 'g', arguments: '{oops' } },
            ],
          },
        },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 3 },
    });
    expect(reply).toEqual({
      answer: {
        text: null,
        toolCalls: [
          { name: 'f', arguments: { a: 1 }, raw: '{"a":1}' },
          { name: 'g', arguments: undefined, raw: '{oops' },
        ],
      },
      inputTokens: 12,
      outputTokens: 3,
    });
  });

  it('reads Anthropic text and tool_use blocks', () => {
    const reply = parseReply('anthropic', {
      content: [
        { type: 'text', text: 'Let me check. ' },
        { type: 'tool_use', id: 't', name: 'f', input: { a: 1 } },
      ],
      usage: { input_tokens: 7, output_tokens: 2 },
    });
    expect(reply?.answer).toEqual({
      text: 'Let me check. ',
      toolCalls: [{ name: 'f', arguments: { a: 1 }, raw: '{"a":1}' }],
    });
    expect(reply?.inputTokens).toBe(7);
  });

  it('refuses bodies that are not answers of the format', () => {
    expect(parseReply('openai-compatible', { error: { message: 'x' } })).toBeNull();
    expect(parseReply('anthropic', 'text')).toBeNull();
  });
});
