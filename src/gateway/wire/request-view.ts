import { badRequest } from '../gateway-error.js';
import { isObject, type RequestView } from './wire-format.js';

/** The checks both formats share: an object with a `model` string, `messages` and an optional boolean `stream`. */
export function baseView(body: unknown): RequestView {
  if (!isObject(body)) throw badRequest('the request body must be a JSON object');
  const model = body.model;
  if (typeof model !== 'string' || model.length === 0) {
    throw badRequest('you must provide a model parameter (the channel, e.g. "gpt-5-turbo")', 'model');
  }
  if (!Array.isArray(body.messages)) throw badRequest("'messages' must be an array", 'messages');
  const stream = body.stream;
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') {
    throw badRequest("'stream' must be a boolean", 'stream');
  }
  return { channel: model, stream: stream === true, body };
}

/** The first message with role `user`, or undefined. */
export function firstUser(messages: readonly unknown[]): Record<string, unknown> | undefined {
  for (const m of messages) if (isObject(m) && m.role === 'user') return m;
  return undefined;
}
