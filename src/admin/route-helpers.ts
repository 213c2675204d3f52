import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChangeContext } from '../registry/registry-service.js';
import { invalidInput, unauthenticated } from '../shared/errors.js';
import type { Principal } from './principal.js';

export const ErrorView = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Array(Type.Object({ path: Type.String(), message: Type.String() })),
    hint: Type.Optional(Type.String()),
    requestId: Type.String(),
  }),
});

/** Error responses every route can give, for the OpenAPI document. */
export const ERRORS = {
  400: ErrorView,
  401: ErrorView,
  403: ErrorView,
  404: ErrorView,
  409: ErrorView,
  413: ErrorView,
};

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(
    Type.String({
      description: 'the version the change is based on, as returned in ETag; a mismatch gives 409',
    }),
  ),
});

export function principal(req: FastifyRequest): Principal {
  if (!req.principal) throw unauthenticated();
  return req.principal;
}

export function changeContext(req: FastifyRequest, reason?: string): ChangeContext {
  return { actor: principal(req).actor, requestId: String(req.id), reason: reason ?? deleteReason(req) };
}

/**
 * DELETE routes take an optional body `{ "reason": "..." }` for the audit log. It is checked
 * here rather than by a body schema, because a DELETE without any body must stay valid.
 */
function deleteReason(req: FastifyRequest): string | undefined {
  if (req.method !== 'DELETE' || req.body === undefined || req.body === null) return undefined;
  const body = req.body as Record<string, unknown>;
  const extra =
    typeof body === 'object' && !Array.isArray(body)
      ? Object.keys(body).filter((k) => k !== 'reason')
      : ['(body)'];
  if (
    extra.length > 0 ||
    (body.reason !== undefined && (typeof body.reason !== 'string' || body.reason.length > 2000))
  ) {
    throw invalidInput('a DELETE body may hold only "reason", a string of at most 2000 characters', [
      {
        path: '/body',
        message: extra.length ? `unexpected ${extra.join(', ')}` : 'reason must be a short string',
      },
    ]);
  }
  return body.reason as string | undefined;
}

/** Parses `If-Match: "3"` (or `W/"3"`, or `3`) into a version number. */
export function ifMatch(req: FastifyRequest): number | undefined {
  const raw = req.headers['if-match'];
  if (raw === undefined) return undefined;
  const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(String(raw).trim());
  if (!m?.[1]) {
    throw invalidInput('If-Match must be a record version such as "3"', [
      { path: 'if-match', message: `got ${JSON.stringify(raw)}` },
    ]);
  }
  return Number(m[1]);
}

/** Sends a record with its version as ETag, for the next If-Match. */
export function withEtag<T extends { version: number }>(reply: FastifyReply, record: T): T {
  void reply.header('etag', `"${record.version}"`);
  return record;
}

export const IdParam = Type.Object({ id: Type.String({ maxLength: 300 }) });
export const TenantParam = Type.Object({ tenantId: Type.String({ maxLength: 100 }) });
