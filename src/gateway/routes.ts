import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ChatExchange, type ExchangeDeps } from './chat-exchange.js';
import { type FeedbackDeps, recordFeedback } from './feedback/feedback-route.js';
import { GatewayError } from './gateway-error.js';
import { getModel, listModels, speaksAnthropic } from './models-route.js';
import { anthropicWire } from './wire/anthropic-wire.js';
import { openAiWire } from './wire/openai-wire.js';
import type { WireFormat } from './wire/wire-format.js';

export interface RoutesDeps {
  exchange: ExchangeDeps;
  feedback: FeedbackDeps;
  bodyLimitBytes: number;
}

function wireOf(req: FastifyRequest): WireFormat {
  return req.url.startsWith('/v1/messages') || speaksAnthropic(req.headers) ? anthropicWire : openAiWire;
}

/** Errors fastify raises before a handler runs (body too large, bad content), as gateway errors. */
function fromFastify(e: FastifyError): GatewayError | undefined {
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new GatewayError(413, 'too_large', 'the request body is larger than this gateway accepts', {
      code: 'request_too_large',
    });
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return new GatewayError(400, 'invalid_request', 'the request could not be read', {
      code: 'invalid_request',
    });
  }
  return undefined;
}

/**
 * The gateway's HTTP surface, mounted at the root in its own fastify context, so its body
 * handling and error format do not leak into the admin API:
 *   - bodies are taken as raw buffers (one JSON.parse in the handler, no schema validation on
 *     the hot path) whatever the content type, bounded by the body limit;
 *   - every error, including fastify's own, is answered in the wire format the client speaks.
 * Chat requests bypass fastify's reply (hijack) and write to the raw response, so streamed
 * bytes go straight from the provider to the client.
 */
export function gatewayRoutes(deps: RoutesDeps): FastifyPluginAsync {
  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: deps.bodyLimitBytes },
      (_req, body, done) => {
        done(null, body);
      },
    );

    app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      let g = err instanceof GatewayError ? err : fromFastify(err);
      if (!g) {
        req.log.error({ err }, 'gateway route failed');
        g = new GatewayError(500, 'internal', `internal error; quote request id ${req.id} to the operator`, {
          code: 'internal_error',
        });
      }
      if (g.retryAfterS !== undefined) void reply.header('retry-after', String(g.retryAfterS));
      void reply.status(g.status).header('content-type', 'application/json').send(wireOf(req).errorBody(g));
    });

    const chat = (wire: WireFormat) => (req: FastifyRequest, reply: FastifyReply) => {
      reply.hijack();
      void new ChatExchange(deps.exchange, wire, req, reply.raw).run();
    };
    app.post('/v1/chat/completions', chat(openAiWire));
    app.post('/v1/messages', chat(anthropicWire));

    const { snapshots, clock } = deps.exchange;
    app.get('/v1/models', async (req) => listModels(req.headers, snapshots.current(), clock));
    app.get<{ Params: { id: string } }>('/v1/models/:id', async (req) =>
      getModel(req.headers, snapshots.current(), clock, req.params.id),
    );
    app.post('/v1/feedback', async (req) =>
      recordFeedback(deps.feedback, req.headers, req.body, String(req.id)),
    );
  };
}
