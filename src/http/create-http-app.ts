import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import addFormatsModule from 'ajv-formats';
import {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  fastify,
  LogController,
} from 'fastify';
import { errorHandler, notFoundHandler } from './error-envelope.js';

export type HttpApp = FastifyInstance;
type AjvPlugin = NonNullable<NonNullable<FastifyServerOptions['ajv']>['plugins']>[number];

export interface HttpAppOptions {
  logger: FastifyBaseLogger;
  bodyLimitBytes: number;
}

/**
 * The HTTP server every capability mounts its routes on (admin API now; gateway and dashboard
 * later). Validation is strict on purpose: no coercion of types, no silent removal of unknown
 * fields, all errors reported at once; bad input gets the one error envelope.
 */
export async function createHttpApp(opts: HttpAppOptions): Promise<HttpApp> {
  const app = fastify({
    loggerInstance: opts.logger,
    bodyLimit: opts.bodyLimitBytes,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
    },
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: true },
      plugins: [addFormatsModule.default as unknown as AjvPlugin],
    },
    // Per-request logs would cost the gateway's hot path; requests are recorded as telemetry.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // Idle keep-alive connections would otherwise hold shutdown until their timeout.
    forceCloseConnections: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onRequest', async (req, reply) => {
    void reply.header('x-request-id', req.id);
  });
  // Only JSON is accepted: a text body would otherwise reach validation as a string.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Switchyard admin API',
        version: '1',
        description:
          'Model version registry, contracts, rollout groups and audit log of a Switchyard deployment.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an admin token' } },
      },
      security: [{ bearer: [] }],
    },
  });
  return app as unknown as HttpApp;
}
