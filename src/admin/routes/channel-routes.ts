import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ChannelBind, ChannelPatch } from '../../registry/inputs.js';
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
import { listOf, TenantChannelView } from '../views.js';

const ChannelParams = Type.Object({
  tenantId: Type.String({ maxLength: 100 }),
  channel: Type.String({ maxLength: 100 }),
});

/** Which version of each channel a tenant is pinned to, its candidate and traffic shares. */
export const channelRoutes =
  (registry: RegistryService, store: RegistryStore): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['channels'];

    app.get(
      '/tenants/:tenantId/channels',
      { schema: { tags, params: TenantParam, response: { 200: listOf(TenantChannelView), ...ERRORS } } },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.tenantId);
        if (!(await store.get('tenant', req.params.tenantId))) throw notFound('Tenant', req.params.tenantId);
        return { items: await store.list('tenant_channel', { tenantId: req.params.tenantId }) };
      },
    );

    app.get(
      '/tenants/:tenantId/channels/:channel',
      { schema: { tags, params: ChannelParams, response: { 200: TenantChannelView, ...ERRORS } } },
      async (req, reply) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.tenantId);
        const id = `${req.params.tenantId}:${req.params.channel}`;
        const b = await store.get('tenant_channel', id);
        if (!b) throw notFound('Channel binding', id);
        return withEtag(reply, b);
      },
    );

    app.post(
      '/tenants/:tenantId/channels',
      {
        schema: {
          tags,
          params: TenantParam,
          body: ChannelBind,
          response: { 201: TenantChannelView, ...ERRORS },
        },
      },
      async (req, reply) => {
        const p = principal(req);
        scopeToTenant(p, req.params.tenantId);
        requirePermission(p, 'write');
        const b = await registry.bindChannel(
          changeContext(req, req.body.reason),
          req.params.tenantId,
          req.body,
        );
        return reply.status(201).send(withEtag(reply, b));
      },
    );

    app.patch(
      '/tenants/:tenantId/channels/:channel',
      {
        schema: {
          tags,
          params: ChannelParams,
          headers: IfMatchHeaders,
          body: ChannelPatch,
          response: { 200: TenantChannelView, ...ERRORS },
        },
      },
      async (req, reply) => {
        const p = principal(req);
        scopeToTenant(p, req.params.tenantId);
        requirePermission(p, 'write');
        const b = await registry.updateChannel(
          changeContext(req, req.body.reason),
          req.params.tenantId,
          req.params.channel,
          req.body,
          ifMatch(req),
        );
        return withEtag(reply, b);
      },
    );

    app.delete(
      '/tenants/:tenantId/channels/:channel',
      {
        schema: {
          tags,
          params: ChannelParams,
          headers: IfMatchHeaders,
          response: { 200: TenantChannelView, ...ERRORS },
        },
      },
      async (req) => {
        const p = principal(req);
        scopeToTenant(p, req.params.tenantId);
        requirePermission(p, 'write');
        return registry.unbindChannel(
          changeContext(req),
          req.params.tenantId,
          req.params.channel,
          ifMatch(req),
        );
      },
    );
  };
