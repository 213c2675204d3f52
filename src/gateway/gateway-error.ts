/**
 * What went wrong, in terms both wire formats can express. Each format renders it in its own
 * error shape (OpenAI `{error:{message,type,param,code}}`, Anthropic
 * `{type:'error',error:{type,message}}`), so official SDKs raise their usual exception classes.
 */
export type GatewayErrorKind =
  | 'invalid_request'
  | 'authentication'
  | 'not_found'
  | 'too_large'
  | 'rate_limit'
  | 'upstream'
  | 'timeout'
  | 'unavailable'
  | 'internal';

export interface GatewayErrorOptions {
  /** The request field at fault (OpenAI `param`). */
  param?: string | null;
  /** A stable machine-readable code (OpenAI `code`). */
  code?: string | null;
  /** Seconds the client should wait before retrying (sent as Retry-After). */
  retryAfterS?: number;
}

export class GatewayError extends Error {
  readonly param: string | null;
  readonly code: string | null;
  readonly retryAfterS: number | undefined;

  constructor(
    readonly status: number,
    readonly kind: GatewayErrorKind,
    message: string,
    opts: GatewayErrorOptions = {},
  ) {
    super(message);
    this.name = 'GatewayError';
    this.param = opts.param ?? null;
    this.code = opts.code ?? null;
    this.retryAfterS = opts.retryAfterS;
  }
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new GatewayError(400, 'invalid_request', message, { param, code });

/** An unknown channel, worded as OpenAI words an unknown model. */
export const modelNotFound = (channel: string) =>
  new GatewayError(
    404,
    'not_found',
    `The model \`${channel}\` does not exist or you do not have access to it.`,
    {
      param: 'model',
      code: 'model_not_found',
    },
  );

export const invalidKey = () =>
  new GatewayError(401, 'authentication', 'invalid API key', { code: 'invalid_api_key' });
