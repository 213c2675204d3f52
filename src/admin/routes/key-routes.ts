import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ApiKeyCreate, ApiKeyRotate } from '../../registry/inputs.js';
import type { RegistryService } from '../../registry/registry-service.js';
import type { RegistryStore } from '../../registry/registry-store.js';
import { notFound } from '../../shared/errors.js';
import { type Principal, requirePermission, scopeToTenant } from '../principal.js';
import { changeContext, ERRORS, principal, TenantParam } from '../route-helpers.js';
import { ApiKeyView, ApiKeyWithSecret, listOf } from '../views.js';

const KeyParams = Type.Object({
  tenantId: Type.String({ maxLength: 100 }),
  keyId: Type.String({ maxLength: 100 }),
});
const RotateResult = Type.Object({ ...ApiKeyWithSecret.properties, previous: ApiKeyView });

/** A tenant's own contact manages the tenant's keys (create, rotate, revoke); operators any. */
function mayManageKeys(p: Principal, tenantId: string): void {
  scopeToTenant(p, tenantId);
  if (p.role !== 'tenant_contact') requirePermission(p, 'write');
}

export const keyRoutes =
  (registry: RegistryService, store: RegistryStore): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['api keys'];
    const tenantMustExist = async (id: string) => {
      if (!(await store.get('tenant', id))) throw notFound('Tenant', id);
    };

    app.get(
      '/tenants/:tenantId/keys',
      { schema: { tags, params: TenantParam, response: { 200: listOf(ApiKeyView), ...ERRORS } } },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.tenantId);
        await tenantMustExist(req.params.tenantId);
        return { items: await store.list('api_key', { tenantId: req.params.tenantId }) };
      },
    );

    app.post(
      '/tenants/:tenantId/keys',
      {
        schema: {
          tags,
          params: TenantParam,
          body: ApiKeyCreate,
          response: { 201: ApiKeyWithSecret, ...ERRORS },
        },
      },
      async (req, reply) => {
        mayManageKeys(principal(req), req.params.tenantId);
        const created = await registry.createApiKey(
          changeContext(req, req.body.reason),
          req.params.tenantId,
          req.body,
        );
        return reply.status(201).send(created);
      },
    );

    app.post(
      '/tenants/:tenantId/keys/:keyId/rotate',
      { schema: { tags, params: KeyParams, body: ApiKeyRotate, response: { 201: RotateResult, ...ERRORS } } },
      async (req, reply) => {
        mayManageKeys(principal(req), req.params.tenantId);
        const r = await registry.rotateApiKey(
          changeContext(req, req.body.reason),
          req.params.tenantId,
          req.params.keyId,
          req.body,
        );
        return reply.status(201).send(r);
      },
    );

    app.delete(
      '/tenants/:tenantId/keys/:keyId',
      { schema: { tags, params: KeyParams, response: { 200: ApiKeyView, ...ERRORS } } },
      async (req) => {
        mayManageKeys(principal(req), req.params.tenantId);
        return registry.revokeApiKey(changeContext(req), req.params.tenantId, req.params.keyId);
      },
    );
  };
