import type { SelfCorrectionError } from '../../contracts/self-correction.js';
import type { SseEvent } from '../../providers/sse-framer.js';
import type { ResponseSummary, StreamEventKind, StreamObserver, WireFormat } from '../wire/wire-format.js';

/**
 * What to do with a group of held tool calls once it is complete (decided by the exchange, which
 * knows the tenant's policy): `calls[from..]` of `summary` are the group; `sent` says whether
 * the client has received any byte of this answer.
 */
export type HoldDecision =
  | { action: 'release' }
  | { action: 'replace'; replace: ReadonlyMap<number, unknown> }
  /** Stop without sending anything (only when nothing was sent): the exchange answers instead. */
  | { action: 'reject'; reason: 'fallback' | 'error'; errors: SelfCorrectionError[] }
  /** End the stream with this in-stream error event. */
  | { action: 'end'; event: string };

export type DecideHeld = (summary: ResponseSummary, from: number, sent: boolean) => HoldDecision;

export type HoldStep =
  | { kind: 'send'; bytes: Buffer[] }
  | { kind: 'reject'; reason: 'fallback' | 'error'; errors: SelfCorrectionError[] }
  | { kind: 'end'; bytes: Buffer[]; event: string };

interface Held extends SseEvent {
  bytes: Buffer;
}

const NOTHING: HoldStep = Object.freeze({ kind: 'send', bytes: [] }) as HoldStep;

/**
 * Holds tool-call events of a stream back until the calls are complete and decided. Text passes
 * at once. The events before the first content (OpenAI's role chunk, Anthropic's message_start)
 * are held too, so an answer that is only tool calls has sent nothing when it is decided: it can
 * still become a 422 or be replaced by stable's answer. A group of calls is complete when the
 * first event that is not part of a tool call arrives (the finish chunk, a text block,
 * message_delta); parallel calls are decided together.
 */
export class ToolCallHold {
  private preamble: Held[] = [];
  private tools: Held[] = [];
  private decided = 0;
  /** Whether any byte of this answer reached the client; the relay sets it when it writes. */
  sent = false;

  constructor(
    private readonly wire: WireFormat,
    private readonly observer: StreamObserver,
    private readonly decide: DecideHeld,
  ) {}

  /** Takes the event the observer accepted last, with its bytes; says what to write now. */
  push(ev: SseEvent, bytes: Buffer): HoldStep {
    const kind: StreamEventKind = this.observer.lastKind;
    if (kind === 'tool') {
      this.tools.push(held(ev, bytes));
      return NOTHING;
    }
    if (kind === 'preamble') {
      if (this.tools.length > 0) this.tools.push(held(ev, bytes));
      else if (!this.sent) this.preamble.push(held(ev, bytes));
      else return { kind: 'send', bytes: [bytes] };
      return NOTHING;
    }
    if (this.tools.length > 0) return this.release(bytes);
    const out = this.preamble.map((h) => h.bytes);
    this.preamble = [];
    out.push(bytes);
    return { kind: 'send', bytes: out };
  }

  private release(next: Buffer): HoldStep {
    const summary = this.observer.summary();
    const from = this.decided;
    this.decided = summary.toolCalls.length;
    const d = this.decide(summary, from, this.sent);
    const out = this.preamble.map((h) => h.bytes);
    this.preamble = [];
    const tools = this.tools;
    this.tools = [];
    switch (d.action) {
      case 'release':
        for (const h of tools) out.push(h.bytes);
        out.push(next);
        return { kind: 'send', bytes: out };
      case 'replace':
        out.push(Buffer.from(this.wire.rewriteToolEvents(tools, from, d.replace)), next);
        return { kind: 'send', bytes: out };
      case 'reject':
        return { kind: 'reject', reason: d.reason, errors: d.errors };
      case 'end':
        return { kind: 'end', bytes: out, event: d.event };
    }
  }
}

function held(ev: SseEvent, bytes: Buffer): Held {
  // The chunk buffer is reused by nothing, but a view would pin the whole chunk: copy the event.
  return { event: ev.event, data: ev.data, bytes: Buffer.from(bytes) };
}
