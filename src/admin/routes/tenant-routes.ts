import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { TenantCreate, TenantPatch } from '../../registry/inputs.js';
import type { RegistryService } from '../../registry/registry-service.js';
import type { RegistryStore } from '../../registry/registry-store.js';
import { forbidden, notFound } from '../../shared/errors.js';
import { requirePermission, scopeToTenant } from '../principal.js';
import {
  changeContext,
  ERRORS,
  IdParam,
  IfMatchHeaders,
  ifMatch,
  principal,
  withEtag,
} from '../route-helpers.js';
import { listOf, TenantView } from '../views.js';

/** Fields a tenant's own contact may change; everything else needs an operator. */
const CONTACT_EDITABLE = new Set(['contacts', 'riskProfile', 'reason']);

export const tenantRoutes =
  (registry: RegistryService, store: RegistryStore): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['tenants'];

    app.get(
      '/tenants',
      { schema: { tags, response: { 200: listOf(TenantView), ...ERRORS } } },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        const all = await store.list('tenant');
        return { items: p.role === 'tenant_contact' ? all.filter((t) => t.id === p.tenantId) : all };
      },
    );

    app.post(
      '/tenants',
      { schema: { tags, body: TenantCreate, response: { 201: TenantView, ...ERRORS } } },
      async (req, reply) => {
        requirePermission(principal(req), 'write');
        const t = await registry.createTenant(changeContext(req, req.body.reason), req.body);
        return reply.status(201).send(withEtag(reply, t));
      },
    );

    app.get(
      '/tenants/:id',
      { schema: { tags, params: IdParam, response: { 200: TenantView, ...ERRORS } } },
      async (req, reply) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.id);
        const t = await store.get('tenant', req.params.id);
        if (!t) throw notFound('Tenant', req.params.id);
        return withEtag(reply, t);
      },
    );

    app.patch(
      '/tenants/:id',
      {
        schema: {
          tags,
          params: IdParam,
          headers: IfMatchHeaders,
          body: TenantPatch,
          response: { 200: TenantView, ...ERRORS },
        },
      },
      async (req, reply) => {
        const p = principal(req);
        scopeToTenant(p, req.params.id);
        if (p.role === 'tenant_contact') {
          // A tenant may declare its own sensitivity and contacts, nothing that steers rollouts.
          const fields = Object.keys(req.body);
          const risk = Object.keys(req.body.riskProfile ?? {});
          if (fields.some((f) => !CONTACT_EDITABLE.has(f)) || risk.some((r) => r !== 'declaredSensitivity')) {
            throw forbidden('a tenant contact may change only contacts and riskProfile.declaredSensitivity');
          }
        } else {
          requirePermission(p, 'write');
        }
        const t = await registry.updateTenant(
          changeContext(req, req.body.reason),
          req.params.id,
          req.body,
          ifMatch(req),
        );
        return withEtag(reply, t);
      },
    );

    app.delete(
      '/tenants/:id',
      {
        schema: { tags, params: IdParam, headers: IfMatchHeaders, response: { 200: TenantView, ...ERRORS } },
      },
      async (req) => {
        const p = principal(req);
        scopeToTenant(p, req.params.id);
        requirePermission(p, 'write');
        return registry.deleteTenant(changeContext(req), req.params.id, ifMatch(req));
      },
    );
  };
