/** One server-sent event: its `event:` name (null when absent) and its `data:` lines joined. */
export interface SseEvent {
  event: string | null;
  data: string;
}

/** An event with where its bytes start in the chunk's `complete` buffer. */
export interface FramedEvent extends SseEvent {
  start: number;
}

export interface FramedChunk {
  /** The bytes of the complete events in this chunk (with any earlier leftover), to forward as is. */
  complete: Buffer | null;
  events: FramedEvent[];
}

export class SseOverflowError extends Error {
  constructor(limit: number) {
    super(`a server-sent event is longer than ${limit} bytes`);
    this.name = 'SseOverflowError';
  }
}

const LF2 = '\n\n';
const CRLF2 = '\r\n\r\n';

/**
 * Splits an upstream SSE byte stream at event boundaries. The gateway forwards whole events
 * only: a client cannot act on half an event anyway, and holding back the partial tail lets the
 * gateway check each event before the client sees it (a malformed event becomes a clean error
 * event instead of a crash in the client's SDK). Nothing is held longer than one event.
 */
export class SseFramer {
  private pending: Buffer | null = null;

  constructor(private readonly maxEventBytes: number) {}

  push(chunk: Buffer): FramedChunk {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    const events: FramedEvent[] = [];
    let pos = 0;
    // Searches that found nothing are not repeated for the rest of this chunk (keeps it linear).
    let lfDone = false;
    let crlfDone = false;
    for (;;) {
      const lf = lfDone ? -1 : buf.indexOf(LF2, pos);
      if (lf < 0) lfDone = true;
      const crlf = crlfDone ? -1 : buf.indexOf(CRLF2, pos);
      if (crlf < 0) crlfDone = true;
      let end: number;
      let sep: number;
      if (lf >= 0 && (crlf < 0 || lf < crlf)) {
        end = lf;
        sep = 2;
      } else if (crlf >= 0) {
        end = crlf;
        sep = 4;
      } else {
        break;
      }
      const ev = parseEvent(buf.toString('utf8', pos, end));
      if (ev) events.push({ event: ev.event, data: ev.data, start: pos });
      pos = end + sep;
    }
    if (pos < buf.length) {
      if (buf.length - pos > this.maxEventBytes) throw new SseOverflowError(this.maxEventBytes);
      this.pending = buf.subarray(pos);
    } else {
      this.pending = null;
    }
    return { complete: pos > 0 ? buf.subarray(0, pos) : null, events };
  }

  /** True when bytes of an unfinished event are held (the stream ended mid-event). */
  hasPartial(): boolean {
    return this.pending !== null && this.pending.toString('utf8').trim().length > 0;
  }
}

/** Parses one event's text; null for an event with no data (comments, keep-alives). */
export function parseEvent(text: string): SseEvent | null {
  // The common case (OpenAI): one `data: ...` line. No split, no loop.
  if (text.indexOf('\n') < 0 && text.startsWith('data:')) {
    return { event: null, data: text.charCodeAt(5) === 32 ? text.slice(6) : text.slice(5) };
  }
  let event: string | null = null;
  let data: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length === 0 || line.charCodeAt(0) === 58 /* ':' comment */) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') data = data === null ? value : `${data}\n${value}`;
    else if (field === 'event') event = value;
  }
  return data === null ? null : { event, data };
}
