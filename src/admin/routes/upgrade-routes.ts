import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Id } from '../../registry/types.js';
import { type IncidentStore, renderIncidentHtml, renderIncidentMarkdown } from '../../rollout/incident.js';
import type { UpgradeService } from '../../rollout/upgrade-service.js';
import { notFound } from '../../shared/errors.js';
import { requirePermission, requirePlatform } from '../principal.js';
import { ERRORS, IdParam, principal } from '../route-helpers.js';

export interface UpgradeRouteDeps {
  upgrades: UpgradeService;
  incidents: IncidentStore;
}

const strict = { additionalProperties: false } as const;
const Reason = Type.Optional(
  Type.String({ maxLength: 2000, description: 'why; kept in the upgrade history' }),
);
const Any = Type.Unknown();

const StartBody = Type.Object(
  {
    channel: Id,
    fromVersionId: Id,
    toVersionId: Id,
    tenants: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: 10_000, uniqueItems: true })),
    reason: Reason,
  },
  strict,
);
const ScopeBody = Type.Object({ tenantId: Type.Optional(Id), reason: Reason }, strict);
const AbortBody = Type.Object({ reason: Reason }, strict);
const RollbackBody = Type.Object(
  { tenantId: Id, reason: Type.String({ minLength: 1, maxLength: 2000 }) },
  strict,
);
const ApprovalBody = Type.Object(
  {
    tenantId: Id,
    stage: Type.Integer({ minimum: 1, maximum: 20, description: 'the stage, counted from 1' }),
    reason: Reason,
  },
  strict,
);
const IncidentQuery = Type.Object(
  {
    tenantId: Type.Optional(Id),
    upgradeId: Type.Optional(Type.String({ maxLength: 100 })),
    // Query strings are text and the API does not coerce types: a number is written as digits.
    limit: Type.Optional(
      Type.String({ pattern: '^(?:[1-9]\\d{0,1}|[1-4]\\d{2}|500)$', description: '1 to 500' }),
    ),
  },
  strict,
);
const FormatQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('md'), Type.Literal('html')])) },
  strict,
);

/**
 * Upgrades (start, status, pause, resume, abort), stage approvals and rejections, and incident
 * reports. Approvals check who gives them: an approver gives the platform approval, the tenant's
 * own contact the tenant approval; a contact of another tenant gets 404, any other role 403.
 */
export const upgradeRoutes =
  (deps: UpgradeRouteDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['upgrades'];
    const { upgrades, incidents } = deps;

    app.get('/upgrades', { schema: { tags, response: { 200: Any, ...ERRORS } } }, async (req) => {
      const p = principal(req);
      requirePermission(p, 'read');
      return { items: await upgrades.list(p) };
    });

    app.post(
      '/upgrades',
      { schema: { tags, body: StartBody, response: { 201: Any, ...ERRORS } } },
      async (req, reply) => {
        const p = principal(req);
        requirePlatform(p, 'write');
        const { reason, tenants, ...rest } = req.body;
        const s = await upgrades.start(
          { ...rest, ...(tenants ? { tenants } : {}), ...(reason ? { reason } : {}) },
          p.actor,
        );
        return reply.status(201).send(s);
      },
    );

    app.get(
      '/upgrades/:id',
      { schema: { tags, params: IdParam, response: { 200: Any, ...ERRORS } } },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        return upgrades.status(req.params.id, p);
      },
    );

    for (const action of ['pause', 'resume'] as const) {
      app.post(
        `/upgrades/:id/${action}`,
        { schema: { tags, params: IdParam, body: ScopeBody, response: { 200: Any, ...ERRORS } } },
        async (req) => {
          const p = principal(req);
          requirePlatform(p, 'write');
          const opts = {
            ...(req.body.tenantId ? { tenantId: req.body.tenantId } : {}),
            ...(req.body.reason ? { reason: req.body.reason } : {}),
          };
          await (action === 'pause'
            ? upgrades.pause(req.params.id, p.actor, opts)
            : upgrades.resume(req.params.id, p.actor, opts));
          return upgrades.status(req.params.id, p);
        },
      );
    }

    app.post(
      '/upgrades/:id/abort',
      { schema: { tags, params: IdParam, body: AbortBody, response: { 200: Any, ...ERRORS } } },
      async (req) => {
        const p = principal(req);
        requirePlatform(p, 'write');
        await upgrades.abort(req.params.id, p.actor, req.body.reason);
        return upgrades.status(req.params.id, p);
      },
    );

    // One tenant's rollback, by an operator (the guard does the same on a regression).
    app.post(
      '/upgrades/:id/rollback',
      { schema: { tags, params: IdParam, body: RollbackBody, response: { 200: Any, ...ERRORS } } },
      async (req) => {
        const p = principal(req);
        requirePlatform(p, 'write');
        return upgrades.rollback(req.params.id, req.body.tenantId, p.actor, req.body.reason);
      },
    );

    for (const [path, decision] of [
      ['approvals', 'approve'],
      ['rejections', 'reject'],
    ] as const) {
      app.post(
        `/upgrades/:id/${path}`,
        { schema: { tags, params: IdParam, body: ApprovalBody, response: { 200: Any, ...ERRORS } } },
        async (req) => {
          const p = principal(req);
          requirePermission(p, 'approve');
          const { tenantId, stage, reason } = req.body;
          return decision === 'approve'
            ? upgrades.approve(req.params.id, tenantId, stage, p, reason)
            : upgrades.reject(req.params.id, tenantId, stage, p, reason);
        },
      );
    }

    app.get(
      '/incidents',
      { schema: { tags: ['incidents'], querystring: IncidentQuery, response: { 200: Any, ...ERRORS } } },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        const q = req.query;
        // A tenant contact sees its own tenant's incidents, whatever it asks for.
        const tenantId = p.role === 'tenant_contact' ? (p.tenantId ?? '') : q.tenantId;
        if (p.role === 'tenant_contact' && q.tenantId !== undefined && q.tenantId !== tenantId)
          throw notFound('Tenant', q.tenantId);
        return {
          items: await incidents.list({
            ...(tenantId !== undefined ? { tenantId } : {}),
            ...(q.upgradeId !== undefined ? { upgradeId: q.upgradeId } : {}),
            limit: q.limit !== undefined ? Number(q.limit) : 100,
          }),
        };
      },
    );

    app.get(
      '/incidents/:id',
      {
        schema: {
          tags: ['incidents'],
          params: IdParam,
          querystring: FormatQuery,
          response: { 200: Type.Unknown({ description: 'JSON, Markdown or HTML per format' }), ...ERRORS },
        },
      },
      async (req, reply) => {
        const p = principal(req);
        requirePermission(p, 'read');
        const report = await incidents.get(req.params.id);
        if (!report || (p.role === 'tenant_contact' && report.tenantId !== p.tenantId))
          throw notFound('Incident', req.params.id);
        switch (req.query.format ?? 'json') {
          case 'md':
            return reply.type('text/markdown; charset=utf-8').send(renderIncidentMarkdown(report));
          case 'html':
            return reply
              .type('text/html; charset=utf-8')
              .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
              .send(renderIncidentHtml(report));
          default:
            return reply.type('application/json; charset=utf-8').send(report);
        }
      },
    );
  };
