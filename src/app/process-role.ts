import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/config-schema.js';
import { GatewayError } from '../gateway/gateway-error.js';
import { speaksAnthropic } from '../gateway/models-route.js';
import { anthropicWire } from '../gateway/wire/anthropic-wire.js';
import { openAiWire } from '../gateway/wire/openai-wire.js';

/**
 * What a `switchyard serve` process runs (`process.role`, or `serve --role`):
 *   - `all`: everything (the embedded default and the demo);
 *   - `gateway`: the model endpoints (`/v1/...`), the admin API, the dashboard, health and metrics;
 *   - `controller`: the rollout controller, the classification schedule, telemetry retention and
 *     the webhook outbox, plus the admin API, the dashboard, health and metrics; no model traffic.
 */
export type ProcessRole = Config['process']['role'];

export const PROCESS_ROLES: readonly ProcessRole[] = ['all', 'gateway', 'controller'];

export interface RoleParts {
  /** The gateway's data plane: model endpoints, upstream pool, telemetry pipeline, rollups. */
  servesModels: boolean;
  /** The background loops that must act once per deployment, or may run in few processes. */
  runsControlLoops: boolean;
}

export function roleParts(role: ProcessRole): RoleParts {
  return { servesModels: role !== 'controller', runsControlLoops: role !== 'gateway' };
}

/**
 * The model endpoints of a process that does not serve them (role `controller`): every `/v1/...`
 * request is answered at once, before its body is read, with a 503 in the wire format the client
 * speaks (so the official SDKs raise their usual error) and `x-should-retry: false` (retrying the
 * same process cannot help; the SDKs honour it). A load balancer in front of gateways should never
 * send traffic here; this answer names the mistake instead of a bare 404.
 */
export function modelTrafficRefused(role: ProcessRole): FastifyPluginAsync {
  const err = new GatewayError(
    503,
    'unavailable',
    `this Switchyard process has role ${role} and does not serve model traffic; send /v1 requests to a gateway (a process with role gateway or all)`,
    { code: 'not_a_gateway' },
  );
  const refuse = async (req: FastifyRequest, reply: FastifyReply) => {
    const wire =
      req.url.startsWith('/v1/messages') || speaksAnthropic(req.headers) ? anthropicWire : openAiWire;
    return reply
      .status(err.status)
      .header('content-type', 'application/json')
      .header('x-should-retry', 'false')
      .header('x-switchyard-role', role)
      .send(wire.errorBody(err));
  };
  return async (app) => {
    // Answered in onRequest, before any body parsing: a body of any size or type gets the same answer.
    app.addHook('onRequest', refuse);
    app.all('/v1', refuse);
    app.all('/v1/*', refuse);
  };
}
