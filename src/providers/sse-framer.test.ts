import { describe, expect, it } from 'vitest';
import { parseEvent, SseFramer, SseOverflowError } from './sse-framer.js';

const text = (b: Buffer | null) => (b ? b.toString('utf8') : '');

describe('SseFramer', () => {
  it('forwards whole events only and keeps the partial tail for the next chunk', () => {
    const f = new SseFramer(1024);
    const a = f.push(Buffer.from('data: {"a":1}\n\ndata: {"b"'));
    expect(text(a.complete)).toBe('data: {"a":1}\n\n');
    expect(a.events).toEqual([{ event: null, data: '{"a":1}', start: 0 }]);
    expect(f.hasPartial()).toBe(true);
    const b = f.push(Buffer.from(':2}\n\nevent: x\ndata: y\n\n'));
    expect(text(b.complete)).toBe('data: {"b":2}\n\nevent: x\ndata: y\n\n');
    expect(b.events.map((e) => [e.event, e.data, e.start])).toEqual([
      [null, '{"b":2}', 0],
      ['x', 'y', 15],
    ]);
    expect(f.hasPartial()).toBe(false);
  });

  it('handles CRLF framing, multi-line data and comments', () => {
    const f = new SseFramer(1024);
    const r = f.push(Buffer.from(': keep-alive\r\n\r\nevent: e\r\ndata: one\r\ndata: two\r\n\r\n'));
    expect(r.events).toEqual([{ event: 'e', data: 'one\ntwo', start: 16 }]);
    expect(text(r.complete).endsWith('\r\n\r\n')).toBe(true);
  });

  it('splits a multi-byte character across chunks without damage', () => {
    const f = new SseFramer(1024);
    const bytes = Buffer.from('data: "héllo"\n\n');
    const cut = bytes.indexOf(0xc3) + 1;
    expect(f.push(bytes.subarray(0, cut)).complete).toBeNull();
    expect(f.push(bytes.subarray(cut)).events[0]?.data).toBe('"héllo"');
  });

  it('refuses an event longer than the bound', () => {
    const f = new SseFramer(16);
    expect(() => f.push(Buffer.from(`data: ${'x'.repeat(64)}`))).toThrow(SseOverflowError);
  });

  it('parses field lines per the SSE rules', () => {
    expect(parseEvent('data:no-space')).toEqual({ event: null, data: 'no-space' });
    expect(parseEvent(': only a comment')).toBeNull();
    expect(parseEvent('id: 7\nretry: 10')).toBeNull();
  });
});
