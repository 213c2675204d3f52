import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { RevertRequest } from '../../registry/inputs.js';
import type { RegistryService } from '../../registry/registry-service.js';
import type { RegistryStore } from '../../registry/registry-store.js';
import type { EntityKind } from '../../registry/types.js';
import { notFound } from '../../shared/errors.js';
import { requirePermission, requirePlatform, scopeToTenant } from '../principal.js';
import { changeContext, ERRORS, IdParam, principal } from '../route-helpers.js';
import { AuditEntryView, auditView, listOf } from '../views.js';

const AuditQuery = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 100 })),
    entityKind: Type.Optional(
      Type.Union(
        [
          'tenant',
          'api_key',
          'model_version',
          'tenant_channel',
          'contract',
          'rollout_group',
          'admin_token',
        ].map((k) => Type.Literal(k)),
      ),
    ),
    entityId: Type.Optional(Type.String({ maxLength: 300 })),
    before: Type.Optional(
      Type.String({ pattern: '^[0-9]{1,15}$', description: 'sequence number to page before' }),
    ),
    limit: Type.Optional(
      Type.String({ pattern: '^([1-9][0-9]?|[1-4][0-9]{2}|500)$', description: '1 to 500, default 50' }),
    ),
  },
  { additionalProperties: false },
);

/** The audit log: who changed what, when, before and after, why; and revert by id. */
export const auditRoutes =
  (registry: RegistryService, store: RegistryStore): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['audit'];

    app.get(
      '/audit',
      { schema: { tags, querystring: AuditQuery, response: { 200: listOf(AuditEntryView), ...ERRORS } } },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        const q = req.query;
        if (q.tenantId !== undefined) scopeToTenant(p, q.tenantId);
        const tenantId = p.role === 'tenant_contact' ? (p.tenantId ?? '') : q.tenantId;
        const entries = await store.listAudit({
          ...(tenantId !== undefined ? { tenantId } : {}),
          ...(q.entityKind ? { entityKind: q.entityKind as EntityKind } : {}),
          ...(q.entityId ? { entityId: q.entityId } : {}),
          ...(q.before ? { beforeSeq: Number(q.before) } : {}),
          limit: q.limit ? Number(q.limit) : 50,
        });
        return { items: entries.map(auditView) };
      },
    );

    app.get(
      '/audit/:id',
      { schema: { tags, params: IdParam, response: { 200: AuditEntryView, ...ERRORS } } },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        const e = await store.getAudit(req.params.id);
        if (!e || (p.role === 'tenant_contact' && e.tenantId !== p.tenantId))
          throw notFound('Change', req.params.id);
        return auditView(e);
      },
    );

    app.post(
      '/audit/:id/revert',
      {
        schema: { tags, params: IdParam, body: RevertRequest, response: { 201: AuditEntryView, ...ERRORS } },
      },
      async (req, reply) => {
        requirePlatform(principal(req), 'write');
        const e = await registry.revert(changeContext(req, req.body.reason), req.params.id);
        return reply.status(201).send(auditView(e));
      },
    );
  };
