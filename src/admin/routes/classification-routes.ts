import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { RegistryStore } from '../../registry/registry-store.js';
import type { ClassificationService } from '../../rollout/classification/classification-service.js';
import { forbidden, notFound } from '../../shared/errors.js';
import { type Principal, requirePermission, requirePlatform, scopeToTenant } from '../principal.js';
import { changeContext, ERRORS, IfMatchHeaders, ifMatch, principal, TenantParam } from '../route-helpers.js';
import { TenantView } from '../views.js';

export interface ClassificationRouteDeps {
  service: ClassificationService;
  store: RegistryStore;
}

const Level = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]);
const Reason = Type.String({ maxLength: 2000, description: 'why; kept in the audit log' });
const Loose = Type.Record(Type.String(), Type.Unknown());

const SensitivityBody = Type.Object(
  {
    level: Level,
    reason: Type.String({ minLength: 1, maxLength: 2000, description: 'why; kept in the audit log' }),
  },
  { additionalProperties: false },
);
const ClassifyBody = Type.Object(
  {
    apply: Type.Optional(
      Type.Boolean({
        description: 'move the tenant (operators only); without it, a dry run that changes nothing',
      }),
    ),
    reason: Type.Optional(Reason),
  },
  { additionalProperties: false },
);

const FactorView = Type.Object({
  factor: Type.String(),
  value: Type.Union([Type.String(), Type.Number()]),
  points: Type.Number(),
  why: Type.String(),
});

/** A classification and its explanation: every factor's value, points and why. */
const ClassificationView = Type.Object({
  tenantId: Type.String(),
  fromGroupId: Type.String(),
  groupId: Type.String(),
  bandGroupId: Type.String(),
  score: Type.Number(),
  factors: Type.Array(FactorView),
  floor: Type.Unknown({ description: 'the floor that raised the group above its score band, or null' }),
  profile: Type.Object({
    criticality: Level,
    toolCallComplexity: Level,
    outputFormatRigidity: Level,
    declaredSensitivity: Level,
    regressionHistory: Type.Integer(),
  }),
  derivation: Type.Unknown({
    description: 'declared, derived and used tool-call complexity and format rigidity',
  }),
  regressions: Type.Unknown({ description: 'the regressions counted and where they came from' }),
  held: Type.Union([Type.String(), Type.Null()]),
  decision: Type.String({ description: 'moved | updated | unchanged | held' }),
  applied: Type.Optional(Type.Boolean()),
  recordId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  reason: Type.Optional(Type.String({ description: 'the audit reason written (or that would be)' })),
});

const FleetRunView = Type.Object({
  apply: Type.Boolean(),
  at: Type.String(),
  evaluated: Type.Integer(),
  moves: Type.Array(ClassificationView),
  updated: Type.Array(ClassificationView),
  held: Type.Array(ClassificationView),
  unchanged: Type.Array(Type.String()),
  failed: Type.Array(Type.Object({ tenantId: Type.String(), code: Type.String(), message: Type.String() })),
});

const RecordView = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  at: Type.String(),
  actor: Type.String(),
  trigger: Type.String(),
  outcome: Type.String(),
  fromGroupId: Type.String(),
  groupId: Type.String(),
  score: Type.Number(),
  factors: Type.Array(FactorView),
  detail: Loose,
});

const RecordsQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: '1 to 999; 50 by default' }),
    ),
  },
  { additionalProperties: false },
);

/** A tenant's own contact may declare its sensitivity; operators may for any tenant. */
function mayDeclare(p: Principal, tenantId: string): void {
  scopeToTenant(p, tenantId);
  if (p.role !== 'tenant_contact') requirePermission(p, 'write');
}

/**
 * Group classification (docs/design/rollouts.md, "Group classification"): a tenant's declared
 * sensitivity, the classification of one tenant or of the whole fleet (dry run unless `apply`),
 * and the stored classifications of a tenant. A tenant contact sees only its own tenant; other
 * tenants are 404 as if they did not exist.
 */
export const classificationRoutes =
  (deps: ClassificationRouteDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['classification'];
    const tenantMustExist = async (id: string) => {
      if (!(await deps.store.get('tenant', id))) throw notFound('Tenant', id);
    };

    app.put(
      '/tenants/:tenantId/sensitivity',
      {
        schema: {
          tags,
          params: TenantParam,
          headers: IfMatchHeaders,
          body: SensitivityBody,
          response: {
            200: Type.Object({ tenant: TenantView, classification: ClassificationView }),
            ...ERRORS,
          },
        },
      },
      async (req, reply) => {
        mayDeclare(principal(req), req.params.tenantId);
        const r = await deps.service.declareSensitivity(
          changeContext(req, req.body.reason),
          req.params.tenantId,
          req.body.level,
          ifMatch(req),
        );
        void reply.header('etag', `"${r.tenant.version}"`);
        return r;
      },
    );

    app.post(
      '/tenants/:tenantId/classify',
      {
        schema: {
          tags,
          params: TenantParam,
          body: ClassifyBody,
          response: { 200: ClassificationView, ...ERRORS },
        },
      },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.tenantId);
        const apply = req.body.apply === true;
        if (apply) {
          if (p.role === 'tenant_contact')
            throw forbidden('only an operator may move a tenant to another group');
          requirePermission(p, 'write');
        }
        return deps.service.classifyTenant(changeContext(req, req.body.reason), req.params.tenantId, {
          apply,
          trigger: 'manual',
        });
      },
    );

    app.get(
      '/tenants/:tenantId/classifications',
      {
        schema: {
          tags,
          params: TenantParam,
          querystring: RecordsQuery,
          response: { 200: Type.Object({ items: Type.Array(RecordView) }), ...ERRORS },
        },
      },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.tenantId);
        await tenantMustExist(req.params.tenantId);
        const limit = req.query.limit === undefined ? 50 : Number(req.query.limit);
        return { items: await deps.service.listRecords(req.params.tenantId, limit) };
      },
    );

    app.post(
      '/classification/run',
      { schema: { tags, body: ClassifyBody, response: { 200: FleetRunView, ...ERRORS } } },
      async (req) => {
        const p = principal(req);
        const apply = req.body.apply === true;
        requirePlatform(p, apply ? 'write' : 'read');
        return deps.service.runFleet(changeContext(req, req.body.reason), { apply, trigger: 'fleet' });
      },
    );
  };
