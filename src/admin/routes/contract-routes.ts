import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ContractCreate, ContractPatch } from '../../registry/inputs.js';
import type { RegistryService } from '../../registry/registry-service.js';
import type { RegistryStore } from '../../registry/registry-store.js';
import { notFound } from '../../shared/errors.js';
import { requirePermission, scopeToTenant } from '../principal.js';
import {
  changeContext,
  ERRORS,
  IfMatchHeaders,
  ifMatch,
  principal,
  TenantParam,
  withEtag,
} from '../route-helpers.js';
import { ContractView, listOf } from '../views.js';

const ContractParams = Type.Object({
  tenantId: Type.String({ maxLength: 100 }),
  contractId: Type.String({ maxLength: 300 }),
});
const ContractQuery = Type.Object(
  { modelVersionId: Type.Optional(Type.String({ maxLength: 100 })) },
  { additionalProperties: false },
);

/** Tool schemas and output format contracts, per tenant and model version. */
export const contractRoutes =
  (registry: RegistryService, store: RegistryStore): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['contracts'];

    app.get(
      '/tenants/:tenantId/contracts',
      {
        schema: {
          tags,
          params: TenantParam,
          querystring: ContractQuery,
          response: { 200: listOf(ContractView), ...ERRORS },
        },
      },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.tenantId);
        if (!(await store.get('tenant', req.params.tenantId))) throw notFound('Tenant', req.params.tenantId);
        const all = await store.list('contract', { tenantId: req.params.tenantId });
        const mv = req.query.modelVersionId;
        return { items: mv ? all.filter((c) => c.modelVersionId === mv) : all };
      },
    );

    app.get(
      '/tenants/:tenantId/contracts/:contractId',
      { schema: { tags, params: ContractParams, response: { 200: ContractView, ...ERRORS } } },
      async (req, reply) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.tenantId);
        const c = await store.get('contract', req.params.contractId);
        if (!c || c.tenantId !== req.params.tenantId) throw notFound('Contract', req.params.contractId);
        return withEtag(reply, c);
      },
    );

    app.post(
      '/tenants/:tenantId/contracts',
      {
        schema: {
          tags,
          params: TenantParam,
          body: ContractCreate,
          response: { 201: ContractView, ...ERRORS },
        },
      },
      async (req, reply) => {
        const p = principal(req);
        scopeToTenant(p, req.params.tenantId);
        requirePermission(p, 'write');
        const c = await registry.registerContract(
          changeContext(req, req.body.reason),
          req.params.tenantId,
          req.body,
        );
        return reply.status(201).send(withEtag(reply, c));
      },
    );

    app.put(
      '/tenants/:tenantId/contracts/:contractId',
      {
        schema: {
          tags,
          params: ContractParams,
          headers: IfMatchHeaders,
          body: ContractPatch,
          response: { 200: ContractView, ...ERRORS },
        },
      },
      async (req, reply) => {
        const p = principal(req);
        scopeToTenant(p, req.params.tenantId);
        requirePermission(p, 'write');
        const c = await registry.updateContract(
          changeContext(req, req.body.reason),
          req.params.tenantId,
          req.params.contractId,
          req.body,
          ifMatch(req),
        );
        return withEtag(reply, c);
      },
    );

    app.delete(
      '/tenants/:tenantId/contracts/:contractId',
      {
        schema: {
          tags,
          params: ContractParams,
          headers: IfMatchHeaders,
          response: { 200: ContractView, ...ERRORS },
        },
      },
      async (req) => {
        const p = principal(req);
        scopeToTenant(p, req.params.tenantId);
        requirePermission(p, 'write');
        return registry.deleteContract(
          changeContext(req),
          req.params.tenantId,
          req.params.contractId,
          ifMatch(req),
        );
      },
    );
  };
