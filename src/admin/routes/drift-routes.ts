import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { DriftProfile } from '../../contracts/drift-profile.js';
import type { DriftProfileReader } from '../../gateway/drift/drift-tracker.js';
import type { RegistryStore } from '../../registry/registry-store.js';
import { notFound } from '../../shared/errors.js';
import { requirePermission, scopeToTenant } from '../principal.js';
import { ERRORS, principal, TenantParam } from '../route-helpers.js';

const DriftViewSchema = Type.Object({
  channel: Type.String(),
  stableVersionId: Type.String(),
  candidateVersionId: Type.String(),
  profile: DriftProfile,
  rates: Type.Unknown({ description: 'rates per drift kind, overall and per tool (driftRates)' }),
  cohorts: Type.Unknown({ description: 'canary vs control shape comparison (compareCohorts)' }),
});

/** A tenant's candidate drift: shadow-pair and cohort profiles per channel and version pair. */
export const driftRoutes =
  (reader: DriftProfileReader, store: RegistryStore): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      '/tenants/:tenantId/drift',
      {
        schema: {
          tags: ['drift'],
          params: TenantParam,
          response: { 200: Type.Object({ items: Type.Array(DriftViewSchema) }), ...ERRORS },
        },
      },
      async (req) => {
        const p = principal(req);
        requirePermission(p, 'read');
        scopeToTenant(p, req.params.tenantId);
        if (!(await store.get('tenant', req.params.tenantId))) throw notFound('Tenant', req.params.tenantId);
        return { items: await reader.list(req.params.tenantId) };
      },
    );
  };
