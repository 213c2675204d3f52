import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ModelCreate, ModelPatch } from '../../registry/inputs.js';
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
import { listOf, ModelVersionView } from '../views.js';

const ModelQuery = Type.Object(
  { channel: Type.Optional(Type.String({ maxLength: 100 })) },
  { additionalProperties: false },
);

/** The catalogue of model versions. Readable by every role; changed by operators. */
export const modelRoutes =
  (registry: RegistryService, store: RegistryStore): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['models'];

    app.get(
      '/models',
      { schema: { tags, querystring: ModelQuery, response: { 200: listOf(ModelVersionView), ...ERRORS } } },
      async (req) => {
        requirePermission(principal(req), 'read');
        const all = await store.list('model_version');
        return { items: req.query.channel ? all.filter((m) => m.channel === req.query.channel) : all };
      },
    );

    app.get(
      '/models/:id',
      { schema: { tags, params: IdParam, response: { 200: ModelVersionView, ...ERRORS } } },
      async (req, reply) => {
        requirePermission(principal(req), 'read');
        const m = await store.get('model_version', req.params.id);
        if (!m) throw notFound('Model version', req.params.id);
        return withEtag(reply, m);
      },
    );

    app.post(
      '/models',
      { schema: { tags, body: ModelCreate, response: { 201: ModelVersionView, ...ERRORS } } },
      async (req, reply) => {
        requirePlatform(principal(req), 'write');
        const m = await registry.createModel(changeContext(req, req.body.reason), req.body);
        return reply.status(201).send(withEtag(reply, m));
      },
    );

    app.patch(
      '/models/:id',
      {
        schema: {
          tags,
          params: IdParam,
          headers: IfMatchHeaders,
          body: ModelPatch,
          response: { 200: ModelVersionView, ...ERRORS },
        },
      },
      async (req, reply) => {
        requirePlatform(principal(req), 'write');
        const m = await registry.updateModel(
          changeContext(req, req.body.reason),
          req.params.id,
          req.body,
          ifMatch(req),
        );
        return withEtag(reply, m);
      },
    );

    app.delete(
      '/models/:id',
      {
        schema: {
          tags,
          params: IdParam,
          headers: IfMatchHeaders,
          response: { 200: ModelVersionView, ...ERRORS },
        },
      },
      async (req) => {
        requirePlatform(principal(req), 'write');
        return registry.deleteModel(changeContext(req), req.params.id, ifMatch(req));
      },
    );
  };
