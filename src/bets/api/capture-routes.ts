import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePermission, scopeToTenant } from '../../admin/principal.js';
import { ERRORS, principal } from '../../admin/route-helpers.js';
import type { RegistryStore } from '../../registry/registry-store.js';
import type { Clock } from '../../shared/clock.js';
import { notFound } from '../../shared/errors.js';
import type { BetsStore } from '../bets-store.js';
import type { RefreshService } from '../capture/refresh-service.js';
import type { CaptureSettings, CaptureStatus } from '../capture-types.js';
import {
  CaptureListQuery,
  CaptureParams,
  CaptureSettingsBody,
  CaptureSettingsView,
  RefreshBody,
  ReviewBody,
  SuiteParams,
  TenantParams,
} from './bets-views.js';

const Open = Type.Unknown();

/** Opt-in capture settings, captured examples, refresh and the review of proposals. */
export const captureRoutes =
  (
    store: BetsStore,
    registry: RegistryStore,
    refresh: RefreshService,
    clock: Clock,
  ): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ['bets'];

    app.get(
      '/tenants/:tenantId/bets/capture',
      { schema: { tags, params: TenantParams, response: { 200: CaptureSettingsView, ...ERRORS } } },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.tenantId);
        if (!(await registry.get('tenant', req.params.tenantId)))
          throw notFound('Tenant', req.params.tenantId);
        const s = await store.getCaptureSettings(req.params.tenantId);
        return (
          s ?? {
            tenantId: req.params.tenantId,
            enabled: false,
            sampleRate: 0,
            workflow: 'default',
            updatedBy: '-',
            updatedAt: '-',
          }
        );
      },
    );

    app.put(
      '/tenants/:tenantId/bets/capture',
      {
        schema: {
          tags,
          params: TenantParams,
          body: CaptureSettingsBody,
          response: { 200: CaptureSettingsView, ...ERRORS },
        },
      },
      async (req) => {
        const p = principal(req);
        scopeToTenant(p, req.params.tenantId);
        requirePermission(p, 'write');
        if (!(await registry.get('tenant', req.params.tenantId)))
          throw notFound('Tenant', req.params.tenantId);
        const s: CaptureSettings = {
          tenantId: req.params.tenantId,
          enabled: req.body.enabled,
          sampleRate: req.body.sampleRate,
          workflow: req.body.workflow,
          updatedBy: p.actor,
          updatedAt: new Date(clock.now()).toISOString(),
        };
        await store.putCaptureSettings(s);
        return s;
      },
    );

    app.get(
      '/tenants/:tenantId/bets/captures',
      {
        schema: {
          tags,
          params: TenantParams,
          querystring: CaptureListQuery,
          response: { 200: Type.Object({ items: Type.Array(Open) }), ...ERRORS },
        },
      },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.tenantId);
        const q = req.query;
        return {
          items: await store.listCaptures({
            tenantId: req.params.tenantId,
            ...(q.status ? { status: q.status as CaptureStatus } : {}),
            ...(q.workflow ? { workflow: q.workflow } : {}),
            limit: Math.min(1000, q.limit ? Number(q.limit) : 100),
          }),
        };
      },
    );

    app.post(
      '/tenants/:tenantId/suites/:workflow/refresh',
      {
        schema: {
          tags,
          params: SuiteParams,
          body: RefreshBody,
          response: { 200: Type.Object({ proposed: Type.Integer(), discarded: Type.Integer() }), ...ERRORS },
        },
      },
      async (req) => {
        const p = principal(req);
        scopeToTenant(p, req.params.tenantId);
        requirePermission(p, 'write');
        return refresh.refresh(req.params.tenantId, req.params.workflow, req.body.limit);
      },
    );

    app.post(
      '/tenants/:tenantId/bets/captures/:captureId/review',
      { schema: { tags, params: CaptureParams, body: ReviewBody, response: { 200: Open, ...ERRORS } } },
      async (req) => {
        const p = principal(req);
        scopeToTenant(p, req.params.tenantId);
        // A person's decision on what becomes a golden answer: the approve permission.
        requirePermission(p, 'approve');
        return refresh.review(
          req.params.tenantId,
          req.params.captureId,
          req.body.decision,
          req.body.note ?? null,
          p.actor,
        );
      },
    );
  };
