import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AdminTokenCreate } from '../../registry/inputs.js';
import type { RegistryService } from '../../registry/registry-service.js';
import type { RegistryStore } from '../../registry/registry-store.js';
import { requirePlatform } from '../principal.js';
import { changeContext, ERRORS, IdParam, principal } from '../route-helpers.js';
import { AdminTokenView, AdminTokenWithSecret, listOf } from '../views.js';

/** Admin tokens and their roles. Operators only. */
export const tokenRoutes =
  (registry: RegistryService, store: RegistryStore): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['admin tokens'];

    app.get(
      '/tokens',
      { schema: { tags, response: { 200: listOf(AdminTokenView), ...ERRORS } } },
      async (req) => {
        requirePlatform(principal(req), 'write');
        return { items: await store.list('admin_token') };
      },
    );

    app.post(
      '/tokens',
      { schema: { tags, body: AdminTokenCreate, response: { 201: AdminTokenWithSecret, ...ERRORS } } },
      async (req, reply) => {
        requirePlatform(principal(req), 'write');
        return reply
          .status(201)
          .send(await registry.createAdminToken(changeContext(req, req.body.reason), req.body));
      },
    );

    app.delete(
      '/tokens/:id',
      { schema: { tags, params: IdParam, response: { 200: AdminTokenView, ...ERRORS } } },
      async (req) => {
        requirePlatform(principal(req), 'write');
        return registry.revokeAdminToken(changeContext(req), req.params.id);
      },
    );
  };
