import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type TSchema, Type } from '@sinclair/typebox';
import type { RegistryStore } from '../../registry/registry-store.js';
import type { Clock } from '../../shared/clock.js';
import { type ErrorDetail, invalidInput, notFound } from '../../shared/errors.js';
import { metricsSeries } from '../../telemetry/rollups/metrics-query.js';
import { DAY_MS, MINUTE_MS, type RollupStore } from '../../telemetry/rollups/rollup-types.js';
import { requirePermission, scopeToTenant } from '../principal.js';
import { ERRORS, principal, TenantParam } from '../route-helpers.js';

export interface MetricsRouteDeps {
  rollups: RollupStore;
  /** To tell a tenant without data from one that does not exist (404). */
  store: Pick<RegistryStore, 'get'>;
  clock: Clock;
}

/** Longest window one request may ask for, and most points per series. */
export const MAX_RANGE_MS = 7 * DAY_MS;
export const MAX_POINTS = 1440;

const MetricsQueryString = Type.Object(
  {
    from: Type.Optional(
      Type.String({ format: 'date-time', description: 'start (inclusive); default: an hour before `to`' }),
    ),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'end (exclusive); default: now' })),
    channel: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    version: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: 'a model version id' })),
    cohort: Type.Optional(
      Type.Union([Type.Literal('stable'), Type.Literal('canary'), Type.Literal('shadow')], {
        description: 'shadow holds judge scores of shadow pairs, under the candidate version',
      }),
    ),
    step: Type.Optional(
      Type.String({
        pattern: '^[1-9][0-9]{0,4}[mhd]$',
        description: 'point width: minutes (5m), hours (1h) or days (1d); default 1m',
      }),
    ),
  },
  { additionalProperties: false },
);

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Quantiles = Type.Object({
  count: Type.Integer(),
  p50: Nullable(Type.Number()),
  p95: Nullable(Type.Number()),
  p99: Nullable(Type.Number()),
});

const MetricsPointView = Type.Object({
  start: Type.String({ format: 'date-time' }),
  requests: Type.Integer(),
  errors: Type.Integer(),
  errorRate: Nullable(Type.Number()),
  toolCalls: Type.Object({
    checked: Type.Integer(),
    invalid: Type.Integer(),
    invalidRate: Nullable(Type.Number()),
    coerced: Type.Integer(),
    coercionRate: Nullable(Type.Number()),
    invalidKinds: Type.Record(Type.String(), Type.Integer()),
  }),
  format: Type.Object({ checked: Type.Integer(), valid: Type.Integer(), validRate: Nullable(Type.Number()) }),
  tasks: Type.Object({
    reported: Type.Integer(),
    failed: Type.Integer(),
    failureRate: Nullable(Type.Number()),
  }),
  downstream: Type.Object({
    reports: Type.Integer(),
    errorReports: Type.Integer(),
    errors: Type.Integer(),
    errorRate: Nullable(Type.Number()),
  }),
  judge: Type.Object({ n: Type.Integer(), mean: Nullable(Type.Number()), sd: Nullable(Type.Number()) }),
  latencyMs: Quantiles,
  ttfbMs: Quantiles,
});

export const MetricsView = Type.Object({
  tenantId: Type.String(),
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  stepSeconds: Type.Integer(),
  series: Type.Array(
    Type.Object({
      channel: Type.String({ description: 'empty when the request named no known channel' }),
      versionId: Type.String({ description: 'empty when no version was reached' }),
      cohort: Type.String(),
      points: Type.Array(MetricsPointView, { description: 'steps with data, oldest first' }),
    }),
  ),
});

const UNIT_MS: Record<string, number> = { m: MINUTE_MS, h: 60 * MINUTE_MS, d: DAY_MS };

/**
 * A tenant's behavioural metrics from the per-minute rollups: per channel, version and cohort, at
 * a step of whole minutes, the rates the rollback controller compares and latency quantiles merged
 * from sketches. Steps are aligned to multiples of the step (UTC).
 */
export const metricsRoutes =
  (deps: MetricsRouteDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      '/tenants/:tenantId/metrics',
      {
        schema: {
          tags: ['metrics'],
          params: TenantParam,
          querystring: MetricsQueryString,
          response: { 200: MetricsView, ...ERRORS },
        },
      },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        const { tenantId } = req.params;
        scopeToTenant(p, tenantId);
        const q = req.query;
        const details: ErrorDetail[] = [];
        const step = q.step ?? '1m';
        const stepMs = Number(step.slice(0, -1)) * (UNIT_MS[step.slice(-1)] as number);
        const toMs =
          q.to !== undefined ? Date.parse(q.to) : Math.floor(deps.clock.now() / MINUTE_MS) * MINUTE_MS;
        const fromMs = q.from !== undefined ? Date.parse(q.from) : toMs - 60 * MINUTE_MS;
        if (fromMs % MINUTE_MS !== 0)
          details.push({ path: '/querystring/from', message: 'must be a whole minute' });
        if (toMs % MINUTE_MS !== 0)
          details.push({ path: '/querystring/to', message: 'must be a whole minute' });
        if (fromMs >= toMs) details.push({ path: '/querystring/from', message: 'must be before to' });
        if (toMs - fromMs > MAX_RANGE_MS) {
          details.push({
            path: '/querystring/from',
            message: `the window may span at most ${MAX_RANGE_MS / DAY_MS} days`,
          });
        }
        if (stepMs > MAX_RANGE_MS) details.push({ path: '/querystring/step', message: 'may be at most 7d' });
        else if (Math.ceil((toMs - fromMs) / stepMs) > MAX_POINTS) {
          details.push({
            path: '/querystring/step',
            message: `gives more than ${MAX_POINTS} points; use a larger step`,
          });
        }
        if (details.length > 0) {
          throw invalidInput(
            'the metrics query is invalid',
            details,
            'Use whole-minute UTC times and a step that gives at most 1440 points.',
          );
        }
        if (!(await deps.store.get('tenant', tenantId))) throw notFound('Tenant', tenantId);
        const series = await metricsSeries(deps.rollups, {
          tenantId,
          fromMs,
          toMs,
          stepMs,
          ...(q.channel !== undefined ? { channel: q.channel } : {}),
          ...(q.version !== undefined ? { versionId: q.version } : {}),
          ...(q.cohort !== undefined ? { cohort: q.cohort } : {}),
        });
        return {
          tenantId,
          from: new Date(fromMs).toISOString(),
          to: new Date(toMs).toISOString(),
          stepSeconds: stepMs / 1000,
          series,
        };
      },
    );
  };
