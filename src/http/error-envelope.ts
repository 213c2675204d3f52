import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorDetail, isSwitchyardError } from '../shared/errors.js';

/**
 * The one error envelope of the admin API (the gateway speaks the providers' own error shapes):
 *   { "error": { "code", "message", "details": [{ "path", "message" }], "hint", "requestId" } }
 * Codes are stable and documented in docs/errors.md. Nothing internal (stack, SQL, driver
 * messages) is ever put in it: unknown errors become `internal` and are logged with the id.
 */
export interface ErrorEnvelope {
  error: { code: string; message: string; details: ErrorDetail[]; hint?: string; requestId: string };
}

interface Mapped {
  status: number;
  code: string;
  message: string;
  details: ErrorDetail[];
  hint?: string;
}

function mapFastifyError(e: FastifyError): Mapped | undefined {
  if (e.validation) {
    const where = e.validationContext ?? 'body';
    return {
      status: 400,
      code: 'invalid_input',
      message: `the request ${where} is invalid`,
      details: e.validation.map((v) => {
        const params = v.params as Record<string, unknown>;
        const extra = params.additionalProperty ? ` '${String(params.additionalProperty)}'` : '';
        const allowed = params.allowedValues ? `: ${JSON.stringify(params.allowedValues)}` : '';
        return {
          path: `/${where}${v.instancePath}`,
          message: `${v.message ?? 'is invalid'}${extra}${allowed}`,
        };
      }),
      hint: 'Correct the fields listed in details; the OpenAPI document at /admin/v1/openapi.json describes them.',
    };
  }
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        status: 400,
        code: 'malformed_json',
        message: 'the request body is not valid JSON',
        details: [
          {
            path: '/body',
            message: e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'empty body' : 'could not be parsed',
          },
        ],
        hint: 'Send a JSON object with Content-Type: application/json.',
      };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        code: 'body_too_large',
        message: 'the request body is larger than this server accepts',
        details: [],
        hint: 'Send a smaller body, or raise server.bodyLimitBytes.',
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        code: 'unsupported_media_type',
        message: 'the request body must be JSON',
        details: [{ path: 'content-type', message: 'unsupported' }],
        hint: 'Send Content-Type: application/json.',
      };
    default:
      if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
        return {
          status: e.statusCode,
          code: 'bad_request',
          message: 'the request could not be processed',
          details: [],
        };
      }
      return undefined;
  }
}

export function errorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  let mapped: Mapped | undefined;
  if (isSwitchyardError(err)) {
    mapped = {
      status: err.status,
      code: err.code,
      message: err.message,
      details: err.details,
      ...(err.hint ? { hint: err.hint } : {}),
    };
  } else {
    mapped = mapFastifyError(err as FastifyError);
  }
  if (!mapped) {
    req.log.error({ err }, 'internal error');
    mapped = {
      status: 500,
      code: 'internal',
      message: 'an internal error occurred; the operator can find it in the logs by the request id',
      details: [],
    };
  }
  const body: ErrorEnvelope = {
    error: {
      code: mapped.code,
      message: mapped.message,
      details: mapped.details,
      ...(mapped.hint ? { hint: mapped.hint } : {}),
      requestId: String(req.id),
    },
  };
  void reply.status(mapped.status).send(body);
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): void {
  const body: ErrorEnvelope = {
    error: {
      code: 'route_not_found',
      message: `no route ${req.method} ${req.url.split('?')[0]}`,
      details: [],
      hint: 'See /admin/v1/openapi.json for the routes this server offers.',
      requestId: String(req.id),
    },
  };
  void reply.status(404).send(body);
}
