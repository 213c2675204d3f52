import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import type { CaptureStore } from '../bets-store.js';
import type { CapturedExample, CaptureSettings } from '../capture-types.js';
import { BatchingCaptureSink } from './capture-sink.js';
import { detectFormat, requestToCaseInput } from './request-to-case.js';

/** A capture store in memory: the sink's contract with storage is a batch insert. */
function memoryStore(settings: CaptureSettings[]) {
  const rows: CapturedExample[] = [];
  let batches = 0;
  const store: Pick<CaptureStore, 'listCaptureSettings' | 'insertCaptures'> = {
    listCaptureSettings: async () => settings,
    insertCaptures: async (batch) => {
      batches++;
      rows.push(...batch);
    },
  };
  return { store: store as CaptureStore, rows, batches: () => batches };
}

const setting = (tenantId: string, sampleRate: number, enabled = true): CaptureSettings => ({
  tenantId,
  enabled,
  sampleRate,
  workflow: 'main',
  updatedBy: 't',
  updatedAt: '2026-01-01T00:00:00.000Z',
});
const body = (text: string) => ({ model: 'm', messages: [{ role: 'user', content: text }] });
const reply = { text: 'ok', toolCalls: [] };

describe('BatchingCaptureSink', () => {
  it('captures only opted-in tenants, at their sampling rate, redacted, in batches', async () => {
    const m = memoryStore([setting('acme', 0.5), setting('off', 1, false)]);
    let draw = 0;
    const sink = new BatchingCaptureSink(m.store, {
      clock: new ManualClock(),
      batchSize: 2,
      random: () => [0.1, 0.9, 0.3][draw++ % 3] as number,
    });
    await sink.refreshSettings();
    sink.capture('acme', body('call +44 20 7946 0958'), reply);
    sink.capture('acme', body('dropped by sampling'), reply);
    sink.capture('acme', body('card 4111 1111 1111 1111'), reply);
    sink.capture('off', body('not opted in'), reply);
    sink.capture('nobody', body('unknown tenant'), reply);
    await sink.flush();
    expect(m.rows.map((r) => r.input.messages[0])).toEqual([
      { role: 'user', content: 'call [REDACTED_PHONE]' },
      { role: 'user', content: 'card [REDACTED_CARD]' },
    ]);
    expect(m.rows.every((r) => r.status === 'captured' && r.workflow === 'main')).toBe(true);
    expect(sink.stats()).toMatchObject({
      queued: 2,
      written: 2,
      dropped: 0,
      redactions: { phone: 1, card: 1 },
    });
  });

  it('never blocks: beyond its queue it drops and counts; unreadable bodies are counted, not stored', async () => {
    const m = memoryStore([setting('acme', 1)]);
    const sink = new BatchingCaptureSink(m.store, { clock: new ManualClock(), maxQueue: 3, batchSize: 100 });
    await sink.refreshSettings();
    for (let i = 0; i < 5; i++) sink.capture('acme', i === 0 ? 'not a body' : body(`q${i}`), reply);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ queued: 3, dropped: 2, unreadable: 1, written: 2 });
    expect(m.batches()).toBe(1);
  });
});

describe('captured requests as case inputs', () => {
  it('reads Anthropic bodies (system, tool_use, tool_result) and tells the formats apart', () => {
    const anthropic = {
      model: 'm',
      system: [{ type: 'text', text: 'Be brief.' }],
      tools: [{ name: 'f', input_schema: { type: 'object' } }],
      tool_choice: { type: 'any' },
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'done' }] },
      ],
    };
    expect(detectFormat(anthropic)).toBe('anthropic');
    expect(requestToCaseInput(anthropic)).toEqual({
      system: 'Be brief.',
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', toolCalls: [{ id: 't1', name: 'f', arguments: { a: 1 } }] },
        { role: 'tool', toolCallId: 't1', content: 'done' },
      ],
      tools: [{ name: 'f', parameters: { type: 'object' } }],
      toolChoice: 'required',
    });
    expect(detectFormat({ messages: [{ role: 'system', content: 'x' }] })).toBe('openai');
    expect(requestToCaseInput({ messages: [] })).toBeUndefined();
  });
});
