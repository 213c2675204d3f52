import { describe, expect, it } from 'vitest';
import type { SseEvent } from '../../providers/sse-framer.js';
import { anthropicWire } from '../wire/anthropic-wire.js';
import { openAiWire } from '../wire/openai-wire.js';
import type { WireFormat } from '../wire/wire-format.js';
import { type DecideHeld, type HoldStep, ToolCallHold } from './tool-call-hold.js';

const sse = (ev: SseEvent) =>
  Buffer.from(ev.event ? `event: ${ev.event}\ndata: ${ev.data}\n\n` : `data: ${ev.data}\n\n`);

function openAi(delta: Record<string, unknown>, finish: string | null = null): SseEvent {
  return {
    event: null,
    data: JSON.stringify({
      id: 'c1',
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta, finish_reason: finish }],
    }),
  };
}

const anthropic = (type: string, data: Record<string, unknown>): SseEvent => ({
  event: type,
  data: JSON.stringify({ type, ...data }),
});

/** Runs events through a hold; returns what went out (in order) and how it stopped, if it did. */
function run(wire: WireFormat, events: SseEvent[], decide: DecideHeld) {
  const observer = wire.observer(true);
  const hold = new ToolCallHold(wire, observer, decide);
  let out = '';
  let stop: HoldStep | null = null;
  for (const ev of events) {
    observer.accept(ev);
    const step = hold.push(ev, sse(ev));
    if (step.kind !== 'send') {
      stop = step;
      break;
    }
    for (const b of step.bytes) out += b.toString('utf8');
    if (step.bytes.length > 0) hold.sent = true;
  }
  return { out, stop };
}

const OPENAI_TOOL_ONLY = [
  openAi({
    role: 'assistant',
    content: null,
    tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }],
  }),
  openAi({ tool_calls: [{ index: 0, function: { arguments: '{"days":' } }] }),
  openAi({ tool_calls: [{ index: 0, function: { arguments: '"3"}' } }] }),
  openAi({}, 'tool_calls'),
  { event: null, data: '[DONE]' },
];

describe('ToolCallHold', () => {
  it('holds a tool-only answer until the call is complete, so it can still be rejected with nothing sent', () => {
    const seen: Array<{ from: number; sent: boolean; args: string }> = [];
    const { out, stop } = run(openAiWire, OPENAI_TOOL_ONLY, (summary, from, sent) => {
      seen.push({ from, sent, args: summary.toolCalls[0]?.arguments ?? '' });
      return { action: 'reject', reason: 'error', errors: [] };
    });
    expect(out).toBe('');
    expect(stop).toMatchObject({ kind: 'reject', reason: 'error' });
    expect(seen).toEqual([{ from: 0, sent: false, args: '{"days":"3"}' }]);
  });

  it('releases valid calls unchanged, in order, before the finish chunk', () => {
    const { out, stop } = run(openAiWire, OPENAI_TOOL_ONLY, () => ({ action: 'release' }));
    expect(stop).toBeNull();
    expect(out).toBe(OPENAI_TOOL_ONLY.map((e) => sse(e).toString('utf8')).join(''));
  });

  it('replaces an OpenAI call with its coerced arguments in one delta', () => {
    const { out } = run(openAiWire, OPENAI_TOOL_ONLY, () => ({
      action: 'replace',
      replace: new Map([[0, { days: 3 }]]),
    }));
    const chunks = out
      .split('\n\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)) as { choices: Array<{ delta: { tool_calls?: unknown[] } }> });
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toEqual([
      { index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"days":3}' } },
    ]);
    expect(out.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('passes text at once; a call after it can only end the stream with an error event', () => {
    const events = [
      openAi({ role: 'assistant', content: '' }),
      openAi({ content: 'Looking it up.' }),
      openAi({
        tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      }),
      openAi({}, 'tool_calls'),
    ];
    const sentFlags: boolean[] = [];
    const { out, stop } = run(openAiWire, events, (_s, _f, sent) => {
      sentFlags.push(sent);
      return { action: 'end', event: 'data: {"error":{}}\n\n' };
    });
    expect(out).toContain('Looking it up.');
    expect(out).not.toContain('call_1');
    expect(sentFlags).toEqual([true]);
    expect(stop).toMatchObject({ kind: 'end', event: 'data: {"error":{}}\n\n' });
  });

  it('rewrites an Anthropic tool_use block: one input_json_delta with the coerced input, then its stop', () => {
    const events = [
      anthropic('message_start', { message: { id: 'm', usage: { input_tokens: 3 } } }),
      anthropic('content_block_start', {
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} },
      }),
      anthropic('content_block_delta', {
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '{"days":' },
      }),
      anthropic('content_block_delta', {
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '"3"}' },
      }),
      anthropic('content_block_stop', { index: 0 }),
      anthropic('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 5 } }),
      anthropic('message_stop', {}),
    ];
    const { out } = run(anthropicWire, events, (summary, from) => {
      expect(summary.toolCalls[from]?.arguments).toBe('{"days":"3"}');
      return { action: 'replace', replace: new Map([[0, { days: 3 }]]) };
    });
    const types = [...out.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(types).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(out).toContain(JSON.stringify({ type: 'input_json_delta', partial_json: '{"days":3}' }));
  });
});
