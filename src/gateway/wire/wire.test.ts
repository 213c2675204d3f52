import { describe, expect, it } from 'vitest';
import { GatewayError } from '../gateway-error.js';
import { anthropicWire } from './anthropic-wire.js';
import { openAiWire } from './openai-wire.js';

const ev = (data: unknown, event: string | null = null) => ({
  event,
  data: typeof data === 'string' ? data : JSON.stringify(data),
});

describe('OpenAI wire', () => {
  it('rewrites only the model (and forces stream off for a shadow copy)', () => {
    const view = openAiWire.view({
      model: 'chan',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(JSON.parse(openAiWire.upstreamBody(view, 'up-1', true))).toEqual({
      model: 'up-1',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(JSON.parse(openAiWire.upstreamBody(view, 'up-1', false))).toEqual({
      model: 'up-1',
      stream: false,
      messages: [{ role: 'user', content: 'x' }],
    });
  });

  it('takes the opening from system/developer messages and the first user turn', () => {
    const a = openAiWire.view({
      model: 'c',
      messages: [
        { role: 'system', content: 'S' },
        { role: 'user', content: 'U1' },
      ],
    });
    const b = openAiWire.view({
      model: 'c',
      messages: [
        { role: 'system', content: 'S' },
        { role: 'user', content: 'U1' },
        { role: 'assistant', content: 'A' },
        { role: 'user', content: 'U2' },
      ],
    });
    expect(openAiWire.opening(a)).toBe(openAiWire.opening(b));
  });

  it('assembles streamed tool calls and usage', () => {
    const o = openAiWire.observer(true);
    const tc = (delta: unknown) => ev({ choices: [{ index: 0, delta: { tool_calls: [delta] } }] });
    expect(o.accept(tc({ index: 0, id: 'c1', function: { name: 'get_weather', arguments: '' } }))).toBe('ok');
    o.accept(tc({ index: 0, function: { arguments: '{"city":' } }));
    o.accept(tc({ index: 0, function: { arguments: '"Oslo"}' } }));
    o.accept(ev({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } }));
    expect(o.accept(ev('[DONE]'))).toBe('terminal');
    expect(o.summary()).toEqual({
      text: null,
      toolCalls: [{ id: 'c1', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
      inputTokens: 3,
      outputTokens: 4,
    });
    expect(o.accept(ev('{oops'))).toBe('malformed');
    expect(o.accept(ev({ error: { message: 'x' } }))).toBe('error');
  });

  it('summarizes a JSON answer, and refuses one that is not a completion', () => {
    expect(
      openAiWire.summarize({
        choices: [
          { message: { content: null, tool_calls: [{ id: 'a', function: { name: 'f', arguments: '{}' } }] } },
        ],
      }),
    ).toMatchObject({ toolCalls: [{ name: 'f' }] });
    expect(openAiWire.summarize({ detail: 'nope' })).toBeNull();
  });

  it('renders errors the way OpenAI does', () => {
    const err = new GatewayError(404, 'not_found', 'no such model', {
      param: 'model',
      code: 'model_not_found',
    });
    expect(JSON.parse(openAiWire.errorBody(err))).toEqual({
      error: {
        message: 'no such model',
        type: 'invalid_request_error',
        param: 'model',
        code: 'model_not_found',
      },
    });
    expect(openAiWire.streamError(err)).toMatch(/^data: \{"error":/);
  });
});

describe('Anthropic wire', () => {
  it('assembles a streamed message with a tool_use block', () => {
    const o = anthropicWire.observer(true);
    expect(
      o.accept(
        ev(
          { type: 'message_start', message: { usage: { input_tokens: 9, output_tokens: 1 } } },
          'message_start',
        ),
      ),
    ).toBe('ok');
    o.accept(
      ev(
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        'content_block_start',
      ),
    );
    o.accept(
      ev(
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me check.' } },
        'content_block_delta',
      ),
    );
    o.accept(
      ev(
        {
          type: 'content_block_start',
          index: 1,
          content_block: { type: 'tool_use', id: 't1', name: 'lookup', input: {} },
        },
        'content_block_start',
      ),
    );
    o.accept(
      ev(
        { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"q":' } },
        'content_block_delta',
      ),
    );
    o.accept(
      ev(
        { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '1}' } },
        'content_block_delta',
      ),
    );
    expect(o.accept(ev({ type: 'ping' }, 'ping'))).toBe('ok');
    o.accept(ev({ type: 'message_delta', usage: { output_tokens: 12 } }, 'message_delta'));
    expect(o.accept(ev({ type: 'message_stop' }, 'message_stop'))).toBe('terminal');
    expect(o.summary()).toEqual({
      text: 'Let me check.',
      toolCalls: [{ id: 't1', name: 'lookup', arguments: '{"q":1}' }],
      inputTokens: 9,
      outputTokens: 12,
    });
    expect(o.accept(ev({ type: 'error', error: { type: 'overloaded_error' } }, 'error'))).toBe('error');
  });

  it('passes anthropic-version and anthropic-beta through, nothing else', () => {
    expect(
      anthropicWire.passHeaders({ 'anthropic-version': '2023-06-01', 'anthropic-beta': 'x', cookie: 'no' }),
    ).toEqual({
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'x',
    });
    expect(anthropicWire.passHeaders({})).toBeUndefined();
  });

  it('summarizes content blocks and renders errors the Anthropic way', () => {
    expect(
      anthropicWire.summarize({
        content: [
          { type: 'text', text: 'a' },
          { type: 'tool_use', id: 'x', name: 'f', input: { n: 1 } },
        ],
        usage: { input_tokens: 1, output_tokens: 2 },
      }),
    ).toEqual({
      text: 'a',
      toolCalls: [{ id: 'x', name: 'f', arguments: '{"n":1}' }],
      inputTokens: 1,
      outputTokens: 2,
    });
    const err = new GatewayError(401, 'authentication', 'invalid API key');
    expect(JSON.parse(anthropicWire.errorBody(err))).toEqual({
      type: 'error',
      error: { type: 'authentication_error', message: 'invalid API key' },
    });
    expect(anthropicWire.streamError(err)).toMatch(/^event: error\ndata: /);
  });

  it('rejects bodies it cannot route', () => {
    expect(() => anthropicWire.view([])).toThrow(GatewayError);
    expect(() => anthropicWire.view({ model: 'c', messages: 'no' })).toThrow(/messages/);
    expect(() => anthropicWire.view({ model: 'c', messages: [], stream: 'yes' })).toThrow(/stream/);
  });
});
