import type { IncomingHttpHeaders } from 'node:http';
import { type Static, Type } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import type { RoutingSnapshot } from '../../registry/routing-snapshot.js';
import type { Clock } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';
import { authenticate } from '../auth.js';
import { badRequest, GatewayError, modelNotFound } from '../gateway-error.js';
import type { SessionPinStore } from '../pins/session-pin-store.js';
import { cohortOf } from '../routing/router.js';
import type { FeedbackRecord, FeedbackStore } from './feedback-store.js';

export const FeedbackInput = Type.Object(
  {
    session_id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        pattern: '^[\\x21-\\x7e]+$',
        description: 'defaults to x-session-id',
      }),
    ),
    task_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    model: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'the channel the session used' }),
    ),
    outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
    downstream_errors: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    error_kind: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    detail: Type.Optional(Type.String({ maxLength: 2000 })),
    request_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: false },
);
export type FeedbackInput = Static<typeof FeedbackInput>;

const validate = new Ajv({ allErrors: false, strict: false }).compile<FeedbackInput>(FeedbackInput);

export interface FeedbackDeps {
  snapshots: { current(): RoutingSnapshot };
  pins: SessionPinStore;
  feedback: FeedbackStore;
  clock: Clock;
}

/**
 * `POST /v1/feedback`: an agent (or a downstream system) reports how a task went. The version and
 * cohort are taken from the session's pin, so the controller can compare canary and control
 * task completion without the agent knowing which version served it.
 */
export async function recordFeedback(
  deps: FeedbackDeps,
  headers: IncomingHttpHeaders,
  body: unknown,
  requestId: string,
): Promise<unknown> {
  const now = deps.clock.now();
  const snapshot = deps.snapshots.current();
  const key = authenticate(headers, snapshot, now);
  let input: unknown;
  try {
    input = Buffer.isBuffer(body) && body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
  } catch {
    throw badRequest('the request body is not valid JSON', null, 'invalid_json');
  }
  if (!validate(input)) {
    const e = validate.errors?.[0];
    const at = e?.instancePath
      ? e.instancePath.slice(1)
      : (e?.params as { additionalProperty?: string })?.additionalProperty;
    throw badRequest(
      `invalid feedback: ${at ? `${at} ` : ''}${e?.message ?? 'is invalid'}`,
      at ?? null,
      'invalid_feedback',
    );
  }
  if (input.outcome === undefined && input.downstream_errors === undefined) {
    throw badRequest(
      'feedback needs an outcome (success or failure) or downstream_errors',
      'outcome',
      'invalid_feedback',
    );
  }
  const header = headers['x-session-id'];
  const sessionId = input.session_id ?? (typeof header === 'string' ? header : undefined);
  if (!sessionId)
    throw badRequest('session_id (or the x-session-id header) is required', 'session_id', 'invalid_feedback');

  const tenant = snapshot.tenants.get(key.tenantId);
  const routes = input.model ? [tenant?.channels.get(input.model)] : [...(tenant?.channels.values() ?? [])];
  if (input.model && !routes[0]) throw modelNotFound(input.model);
  let channel: string | null = input.model ?? null;
  let versionId: string | null = null;
  let cohort: FeedbackRecord['cohort'] = null;
  for (const route of routes) {
    const pin = route && deps.pins.peek(key.tenantId, `${route.binding.channel}:${sessionId}`);
    if (!route || !pin) continue;
    channel = route.binding.channel;
    versionId = pin.versionId;
    const version = snapshot.models.get(pin.versionId);
    cohort = version ? cohortOf(route, version) : null;
    break;
  }

  const record: FeedbackRecord = {
    id: newId('fbk'),
    atMs: now,
    tenantId: key.tenantId,
    keyId: key.keyId,
    sessionId,
    taskId: input.task_id ?? null,
    channel,
    versionId,
    cohort,
    outcome: input.outcome ?? null,
    downstreamErrors: input.downstream_errors ?? 0,
    errorKind: input.error_kind ?? null,
    detail: input.detail ?? null,
    requestId: input.request_id ?? null,
  };
  try {
    await deps.feedback.append(record);
  } catch {
    throw new GatewayError(
      503,
      'unavailable',
      `feedback could not be stored; retry (request id ${requestId})`,
      {
        code: 'feedback_unavailable',
        retryAfterS: 1,
      },
    );
  }
  return { id: record.id, object: 'feedback', session_id: sessionId, version_id: versionId, cohort };
}
