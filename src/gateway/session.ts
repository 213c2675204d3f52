import { hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { badRequest } from './gateway-error.js';
import type { RequestView, WireFormat } from './wire/wire-format.js';

const SESSION_ID = /^[\x21-\x7e]{1,256}$/;

/**
 * The session a request belongs to: the client's `x-session-id`, or else a fingerprint of the
 * conversation's opening (system prompt and first user turn). Every turn of a multi-turn chat
 * resends that opening, so the fingerprint stays the same for the whole conversation.
 */
export function sessionIdOf(headers: IncomingHttpHeaders, wire: WireFormat, view: RequestView): string {
  const given = headers['x-session-id'];
  if (typeof given === 'string') {
    if (!SESSION_ID.test(given)) {
      throw badRequest(
        'x-session-id must be 1 to 256 visible ASCII characters',
        'x-session-id',
        'invalid_session_id',
      );
    }
    return given;
  }
  return `fp-${hash('sha256', wire.opening(view), 'hex').slice(0, 32)}`;
}

/** The client's task id (`x-switchyard-task`), if it sent one; feedback reports refer to it. */
export function taskIdOf(headers: IncomingHttpHeaders): string | null {
  const given = headers['x-switchyard-task'];
  if (typeof given !== 'string') return null;
  if (!SESSION_ID.test(given)) {
    throw badRequest(
      'x-switchyard-task must be 1 to 256 visible ASCII characters',
      'x-switchyard-task',
      'invalid_task_id',
    );
  }
  return given;
}
