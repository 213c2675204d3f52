/**
 * What the two wire modules (openai-wire.ts, anthropic-wire.ts) share: the errors the simulator
 * can answer with, and the facts of a reply both render (ids, token counts).
 */

export type SimError =
  | { kind: 'invalid_request'; message: string; param: string | null }
  | { kind: 'authentication' }
  | { kind: 'model_not_found'; model: string }
  | { kind: 'rate_limit'; retryAfterSeconds: number }
  | { kind: 'server_error' }
  | { kind: 'overloaded' }
  | { kind: 'route_not_found'; method: string; path: string }
  | { kind: 'too_large' };

export interface RenderedError {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export interface ReplyMeta {
  /** Response id body (the wire module adds `chatcmpl-` / `msg_`). */
  id: string;
  /** Tool call id body (the wire module adds `call_` / `toolu_`). */
  toolCallId: string;
  /** Unix seconds. */
  created: number;
  model: string;
  promptTokens: number;
  completionTokens: number;
}

/**
 * `text` cut into pieces of at most `size` characters, and into at least `min` pieces when it is
 * long enough: streamed tool arguments must arrive as several fragments, as providers send them.
 */
export function fragments(text: string, size: number, min = 1): string[] {
  const step = Math.max(1, Math.min(size, Math.ceil(text.length / min)));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += step) out.push(text.slice(i, i + step));
  return out.length > 0 ? out : [''];
}
