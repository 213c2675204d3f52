import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePermission, scopeToTenant } from '../../admin/principal.js';
import { ERRORS, IfMatchHeaders, ifMatch, principal, withEtag } from '../../admin/route-helpers.js';
import { invalidInput } from '../../shared/errors.js';
import { CaseSpec, type Suite } from '../bets-types.js';
import type { RejectedCase } from '../case-check.js';
import { casesFromBfcl, type ImportOutcome } from '../import/bfcl-suite-import.js';
import { casesFromPromptfoo } from '../import/promptfoo-import.js';
import { SuiteFile } from '../import/suite-file.js';
import type { ImportResult, SuiteService } from '../suite-service.js';
import {
  CaseParams,
  CasesView,
  ImportBody,
  ImportResultView,
  SuiteCreateBody,
  SuiteDetailView,
  SuiteParams,
  SuitePatchBody,
  SuiteView,
  TenantParams,
  VersionQuery,
} from './bets-views.js';

/** Converter problems (found before validation) in the shape of validation rejections. */
function preRejected(outcome: ImportOutcome): RejectedCase[] {
  return outcome.rejected.map((r) => ({
    index: r.index,
    caseId: r.caseId,
    details: [{ path: `/cases/${r.index}`, message: r.message }],
  }));
}

/** Suites, their versioned cases, import and export. */
export const suiteRoutes =
  (suites: SuiteService): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['bets'];
    const view = async (s: Suite) => ({
      ...s,
      staleness: suites.staleness(s, (await suites.cases(s.tenantId, s.workflow)).cases),
    });

    app.get(
      '/tenants/:tenantId/suites',
      {
        schema: {
          tags,
          params: TenantParams,
          response: { 200: Type.Object({ items: Type.Array(SuiteView) }), ...ERRORS },
        },
      },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.tenantId);
        return { items: await Promise.all((await suites.list(req.params.tenantId)).map(view)) };
      },
    );

    app.post(
      '/tenants/:tenantId/suites',
      {
        schema: {
          tags,
          params: TenantParams,
          body: SuiteCreateBody,
          response: { 201: SuiteView, ...ERRORS },
        },
      },
      async (req, reply) => {
        const p = principal(req);
        scopeToTenant(p, req.params.tenantId);
        requirePermission(p, 'write');
        const { reason: _reason, ...input } = req.body;
        const s = await suites.create(req.params.tenantId, input, p.actor);
        return reply.status(201).send(withEtag(reply, await view(s)));
      },
    );

    app.get(
      '/tenants/:tenantId/suites/:workflow',
      { schema: { tags, params: SuiteParams, response: { 200: SuiteDetailView, ...ERRORS } } },
      async (req, reply) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.tenantId);
        const s = await suites.get(req.params.tenantId, req.params.workflow);
        return withEtag(reply, { ...(await view(s)), versions: await suites.versions(s) });
      },
    );

    app.patch(
      '/tenants/:tenantId/suites/:workflow',
      {
        schema: {
          tags,
          params: SuiteParams,
          headers: IfMatchHeaders,
          body: SuitePatchBody,
          response: { 200: SuiteView, ...ERRORS },
        },
      },
      async (req, reply) => {
        const p = principal(req);
        scopeToTenant(p, req.params.tenantId);
        requirePermission(p, 'write');
        const { reason: _reason, ...patch } = req.body;
        const s = await suites.update(req.params.tenantId, req.params.workflow, patch, ifMatch(req), p.actor);
        return withEtag(reply, await view(s));
      },
    );

    app.delete(
      '/tenants/:tenantId/suites/:workflow',
      {
        schema: {
          tags,
          params: SuiteParams,
          headers: IfMatchHeaders,
          response: { 200: SuiteView, ...ERRORS },
        },
      },
      async (req) => {
        const p = principal(req);
        scopeToTenant(p, req.params.tenantId);
        requirePermission(p, 'write');
        const s = await suites.remove(req.params.tenantId, req.params.workflow, ifMatch(req), p.actor);
        return {
          ...s,
          staleness: {
            stale: false,
            staleAfterDays: s.config.staleAfterDays,
            staleCases: 0,
            oldestGoldenAt: null,
          },
        };
      },
    );

    app.get(
      '/tenants/:tenantId/suites/:workflow/cases',
      {
        schema: {
          tags,
          params: SuiteParams,
          querystring: VersionQuery,
          response: { 200: CasesView, ...ERRORS },
        },
      },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.tenantId);
        const v = req.query.version ? Number(req.query.version) : undefined;
        const { version, cases } = await suites.cases(req.params.tenantId, req.params.workflow, v);
        return { suiteVersion: version, items: cases };
      },
    );

    app.put(
      '/tenants/:tenantId/suites/:workflow/cases/:caseId',
      {
        schema: {
          tags,
          params: CaseParams,
          headers: IfMatchHeaders,
          body: CaseSpec,
          response: { 200: SuiteView, ...ERRORS },
        },
      },
      async (req, reply) => {
        const p = principal(req);
        scopeToTenant(p, req.params.tenantId);
        requirePermission(p, 'write');
        if (req.body.id !== req.params.caseId) {
          throw invalidInput(
            `the body's id '${req.body.id}' differs from the path's '${req.params.caseId}'`,
            [{ path: '/body/id', message: 'must equal the case id in the path' }],
          );
        }
        const s = await suites.putCase(
          req.params.tenantId,
          req.params.workflow,
          req.body,
          ifMatch(req),
          p.actor,
        );
        return withEtag(reply, await view(s));
      },
    );

    app.delete(
      '/tenants/:tenantId/suites/:workflow/cases/:caseId',
      {
        schema: {
          tags,
          params: CaseParams,
          headers: IfMatchHeaders,
          response: { 200: SuiteView, ...ERRORS },
        },
      },
      async (req, reply) => {
        const p = principal(req);
        scopeToTenant(p, req.params.tenantId);
        requirePermission(p, 'write');
        const s = await suites.deleteCase(
          req.params.tenantId,
          req.params.workflow,
          req.params.caseId,
          ifMatch(req),
          p.actor,
        );
        return withEtag(reply, await view(s));
      },
    );

    app.post(
      '/tenants/:tenantId/suites/:workflow/import',
      {
        schema: {
          tags,
          params: SuiteParams,
          headers: IfMatchHeaders,
          body: ImportBody,
          response: { 200: ImportResultView, ...ERRORS },
        },
      },
      async (req) => {
        const p = principal(req);
        scopeToTenant(p, req.params.tenantId);
        requirePermission(p, 'write');
        const { tenantId, workflow } = req.params;
        const b = req.body;
        const opts = {
          ...(b.replace !== undefined ? { replace: b.replace } : {}),
          ...(b.skipInvalid !== undefined ? { skipInvalid: b.skipInvalid } : {}),
        };
        let result: ImportResult;
        if (b.format === 'suite') {
          result = await suites.importFile(tenantId, workflow, b.file, opts, ifMatch(req), p.actor);
        } else {
          const outcome =
            b.format === 'bfcl'
              ? casesFromBfcl(b.cases, b.answers, { closedSchemas: b.closedSchemas === true })
              : casesFromPromptfoo(b.tests, {
                  ...(b.promptTemplate !== undefined ? { promptTemplate: b.promptTemplate } : {}),
                  ...(b.tools !== undefined ? { tools: b.tools } : {}),
                });
          result = await suites.importCases(
            tenantId,
            workflow,
            {
              candidates: outcome.cases.map((spec) => ({ spec, source: b.format })),
              ...opts,
              preRejected: preRejected(outcome),
              warnings: outcome.warnings,
              ...(b.channel !== undefined ? { create: { workflow, channel: b.channel } } : {}),
              note: `imported ${outcome.cases.length} case(s) from ${b.format}`,
            },
            ifMatch(req),
            p.actor,
          );
        }
        return { ...result, suite: await view(result.suite) };
      },
    );

    app.get(
      '/tenants/:tenantId/suites/:workflow/export',
      {
        schema: {
          tags,
          params: SuiteParams,
          querystring: VersionQuery,
          response: { 200: SuiteFile, ...ERRORS },
        },
      },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.tenantId);
        return suites.exportFile(
          req.params.tenantId,
          req.params.workflow,
          req.query.version ? Number(req.query.version) : undefined,
        );
      },
    );
  };
