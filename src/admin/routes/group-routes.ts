import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { GroupCreate, GroupPatch } from '../../registry/inputs.js';
import type { RegistryService } from '../../registry/registry-service.js';
import type { RegistryStore } from '../../registry/registry-store.js';
import { notFound } from '../../shared/errors.js';
import { requirePermission, requirePlatform } from '../principal.js';
import {
  changeContext,
  ERRORS,
  IdParam,
  IfMatchHeaders,
  ifMatch,
  principal,
  withEtag,
} from '../route-helpers.js';
import { listOf, RolloutGroupView } from '../views.js';

/** Rollout groups and their plans (stages, soaks, approvals, BETS thresholds) as data. */
export const groupRoutes =
  (registry: RegistryService, store: RegistryStore): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['rollout groups'];

    app.get(
      '/groups',
      { schema: { tags, response: { 200: listOf(RolloutGroupView), ...ERRORS } } },
      async (req) => {
        requirePermission(principal(req), 'read');
        const all = await store.list('rollout_group');
        return { items: all.sort((a, b) => a.rank - b.rank || a.id.localeCompare(b.id)) };
      },
    );

    app.get(
      '/groups/:id',
      { schema: { tags, params: IdParam, response: { 200: RolloutGroupView, ...ERRORS } } },
      async (req, reply) => {
        requirePermission(principal(req), 'read');
        const g = await store.get('rollout_group', req.params.id);
        if (!g) throw notFound('Rollout group', req.params.id);
        return withEtag(reply, g);
      },
    );

    app.post(
      '/groups',
      { schema: { tags, body: GroupCreate, response: { 201: RolloutGroupView, ...ERRORS } } },
      async (req, reply) => {
        requirePlatform(principal(req), 'write');
        const g = await registry.createGroup(changeContext(req, req.body.reason), req.body);
        return reply.status(201).send(withEtag(reply, g));
      },
    );

    app.patch(
      '/groups/:id',
      {
        schema: {
          tags,
          params: IdParam,
          headers: IfMatchHeaders,
          body: GroupPatch,
          response: { 200: RolloutGroupView, ...ERRORS },
        },
      },
      async (req, reply) => {
        requirePlatform(principal(req), 'write');
        const g = await registry.updateGroup(
          changeContext(req, req.body.reason),
          req.params.id,
          req.body,
          ifMatch(req),
        );
        return withEtag(reply, g);
      },
    );
  };
