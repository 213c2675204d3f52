import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePermission, requirePlatform, scopeToTenant } from '../../admin/principal.js';
import { ERRORS, principal } from '../../admin/route-helpers.js';
import { notFound } from '../../shared/errors.js';
import type { BetsStore } from '../bets-store.js';
import type { FleetService } from '../fleet-service.js';
import { reportJunit, reportMarkdown } from '../report/render.js';
import { buildReport, type RunReport } from '../report/run-report.js';
import type { RunService } from '../run-service.js';
import type { RunOptions, RunRecord } from '../run-types.js';
import {
  FleetBody,
  FleetParams,
  ReportQuery,
  RunListQuery,
  RunParams,
  RunView,
  StartRunBody,
  SuiteParams,
  TenantParams,
  VerdictQuery,
} from './bets-views.js';

const Open = Type.Unknown();

/** Runs (start, progress, cancel, report), verdicts, alerts and fleet runs. */
export const runRoutes =
  (store: BetsStore, runs: RunService, fleet: FleetService): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['bets'];
    const view = async (run: RunRecord) => {
      const { runner: _r, heartbeatAt: _h, ...rest } = run;
      return { ...rest, progress: await runs.progress(run) };
    };
    /** The run, if it exists and belongs to the tenant in the path (else the same 404). */
    const tenantRun = async (tenantId: string, runId: string): Promise<RunRecord> => {
      const run = await store.getRun(runId);
      if (!run || run.tenantId !== tenantId) throw notFound('Run', runId);
      return run;
    };

    app.post(
      '/tenants/:tenantId/suites/:workflow/runs',
      { schema: { tags, params: SuiteParams, body: StartRunBody, response: { 202: RunView, ...ERRORS } } },
      async (req, reply) => {
        const p = principal(req);
        scopeToTenant(p, req.params.tenantId);
        requirePermission(p, 'write');
        const { candidateVersionId, upgradeId, ...options } = req.body;
        const run = await runs.startRun(
          {
            tenantId: req.params.tenantId,
            workflow: req.params.workflow,
            ...(candidateVersionId !== undefined ? { candidateVersionId } : {}),
            ...(upgradeId !== undefined ? { upgradeId } : {}),
            options: options as Partial<RunOptions>,
          },
          p.actor,
        );
        return reply.status(202).send(await view(run));
      },
    );

    app.get(
      '/tenants/:tenantId/bets/runs',
      {
        schema: {
          tags,
          params: TenantParams,
          querystring: RunListQuery,
          response: { 200: Type.Object({ items: Type.Array(RunView) }), ...ERRORS },
        },
      },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.tenantId);
        const list = await store.listRuns({
          tenantId: req.params.tenantId,
          ...(req.query.workflow ? { suiteId: `${req.params.tenantId}:${req.query.workflow}` } : {}),
          limit: Math.min(500, req.query.limit ? Number(req.query.limit) : 50),
        });
        return { items: await Promise.all(list.map(view)) };
      },
    );

    app.get(
      '/tenants/:tenantId/bets/runs/:runId',
      { schema: { tags, params: RunParams, response: { 200: RunView, ...ERRORS } } },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.tenantId);
        return view(await tenantRun(req.params.tenantId, req.params.runId));
      },
    );

    app.post(
      '/tenants/:tenantId/bets/runs/:runId/cancel',
      { schema: { tags, params: RunParams, response: { 200: RunView, ...ERRORS } } },
      async (req) => {
        const p = principal(req);
        scopeToTenant(p, req.params.tenantId);
        requirePermission(p, 'write');
        await tenantRun(req.params.tenantId, req.params.runId);
        return view(await runs.cancelRun(req.params.runId));
      },
    );

    app.get(
      '/tenants/:tenantId/bets/runs/:runId/report',
      {
        schema: {
          tags,
          params: RunParams,
          querystring: ReportQuery,
          response: {
            200: Type.Unknown({ description: 'JSON, Markdown or JUnit XML per format' }),
            ...ERRORS,
          },
        },
      },
      async (req, reply) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.tenantId);
        const report = await reportOf(store, runs, await tenantRun(req.params.tenantId, req.params.runId));
        switch (req.query.format ?? 'json') {
          case 'markdown':
            return reply.type('text/markdown; charset=utf-8').send(reportMarkdown(report));
          case 'junit':
            return reply.type('application/xml; charset=utf-8').send(reportJunit(report));
          default:
            return reply.type('application/json; charset=utf-8').send(report);
        }
      },
    );

    app.get(
      '/tenants/:tenantId/bets/verdicts',
      {
        schema: {
          tags,
          params: TenantParams,
          querystring: VerdictQuery,
          response: { 200: Type.Object({ items: Type.Array(Open) }), ...ERRORS },
        },
      },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.tenantId);
        return { items: await store.listVerdicts({ tenantId: req.params.tenantId, ...req.query }) };
      },
    );

    app.get(
      '/tenants/:tenantId/bets/alerts',
      {
        schema: {
          tags,
          params: TenantParams,
          response: { 200: Type.Object({ items: Type.Array(Open) }), ...ERRORS },
        },
      },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.tenantId);
        return { items: await store.listAlerts({ tenantId: req.params.tenantId, limit: 100 }) };
      },
    );

    app.get(
      '/bets/verdicts',
      {
        schema: {
          tags,
          querystring: VerdictQuery,
          response: { 200: Type.Object({ items: Type.Array(Open) }), ...ERRORS },
        },
      },
      async (req) => {
        requirePlatform(principal(req), 'read');
        return { items: await store.listVerdicts(req.query) };
      },
    );

    app.post(
      '/bets/fleet-runs',
      {
        schema: {
          tags,
          body: FleetBody,
          response: { 202: Type.Object({ fleetRun: Open, skipped: Type.Array(Open) }), ...ERRORS },
        },
      },
      async (req, reply) => {
        const p = principal(req);
        requirePlatform(p, 'write');
        const { k, concurrency, ...rest } = req.body;
        const started = await fleet.start(
          {
            ...rest,
            options: {
              ...(k !== undefined ? { k } : {}),
              ...(concurrency !== undefined ? { concurrency } : {}),
            },
          },
          p.actor,
        );
        // Verdicts are recorded as they come; the API client polls the fleet run for them.
        started.done.catch((err: unknown) => req.log.error({ err }, 'fleet run failed'));
        return reply.status(202).send({ fleetRun: started.fleetRun, skipped: started.skipped });
      },
    );

    app.get(
      '/bets/fleet-runs/:fleetRunId',
      {
        schema: {
          tags,
          params: FleetParams,
          response: {
            200: Type.Object({ fleetRun: Open, runs: Type.Array(RunView), verdicts: Type.Array(Open) }),
            ...ERRORS,
          },
        },
      },
      async (req) => {
        requirePlatform(principal(req), 'read');
        const fleetRun = await store.getFleetRun(req.params.fleetRunId);
        if (!fleetRun) throw notFound('Fleet run', req.params.fleetRunId);
        const list = await store.listRuns({ fleetRunId: fleetRun.id, limit: 10_000 });
        const verdicts = (
          await store.listVerdicts({
            channel: fleetRun.channel,
            ...(fleetRun.upgradeId ? { upgradeId: fleetRun.upgradeId } : {}),
          })
        ).filter((v) => fleetRun.tenants.includes(v.tenantId) && list.some((r) => v.runIds.includes(r.id)));
        return { fleetRun, runs: await Promise.all(list.map(view)), verdicts };
      },
    );
  };

export async function reportOf(store: BetsStore, runs: RunService, run: RunRecord): Promise<RunReport> {
  const [cases, results, thresholds] = await Promise.all([
    store.listCases(run.suiteId, run.suiteVersion),
    store.listResults(run.id),
    runs.thresholdsFor(run.tenantId),
  ]);
  return buildReport(run, cases, results, thresholds, await runs.progress(run));
}
