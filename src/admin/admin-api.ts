import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { type BetsRouteDeps, betsRoutes } from '../bets/api/bets-routes.js';
import type { DriftProfileReader } from '../gateway/drift/drift-tracker.js';
import type { RegistryService } from '../registry/registry-service.js';
import type { RegistryStore } from '../registry/registry-store.js';
import type { AdminAuth } from './admin-auth.js';
import { requirePermission } from './principal.js';
import { ERRORS, principal } from './route-helpers.js';
import { auditRoutes } from './routes/audit-routes.js';
import { channelRoutes } from './routes/channel-routes.js';
import { type ClassificationRouteDeps, classificationRoutes } from './routes/classification-routes.js';
import { contractRoutes } from './routes/contract-routes.js';
import { driftRoutes } from './routes/drift-routes.js';
import { groupRoutes } from './routes/group-routes.js';
import { keyRoutes } from './routes/key-routes.js';
import { type MetricsRouteDeps, metricsRoutes } from './routes/metrics-routes.js';
import { modelRoutes } from './routes/model-routes.js';
import { tenantRoutes } from './routes/tenant-routes.js';
import { tokenRoutes } from './routes/token-routes.js';
import { type UpgradeRouteDeps, upgradeRoutes } from './routes/upgrade-routes.js';

export interface AdminApiDeps {
  registry: RegistryService;
  store: RegistryStore;
  auth: AdminAuth;
  /** Process status for /admin/v1/status. */
  status: () => Promise<Record<string, unknown>>;
  /** Behavioural test suites, runs and verdicts. */
  bets?: BetsRouteDeps;
  /** Candidate drift profiles (the gateway's `drift`). */
  drift?: DriftProfileReader;
  /** Group classification of tenants (declared sensitivity, classify, fleet re-evaluation). */
  classification?: ClassificationRouteDeps;
  /** Per-tenant behavioural metrics from the telemetry rollups. */
  metrics?: MetricsRouteDeps;
  /** Upgrades, stage approvals and incident reports (the rollout controller's). */
  upgrades?: UpgradeRouteDeps;
}

const PUBLIC = new Set(['/admin/v1/openapi.json']);

/** Mounts the admin API under /admin/v1: token authentication, then each resource's routes. */
export const adminApi =
  (deps: AdminApiDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.addHook('onRequest', async (req) => {
      if (PUBLIC.has(req.url.split('?')[0] ?? '')) return;
      req.principal = await deps.auth.authenticate(req);
    });

    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

    app.get(
      '/status',
      {
        schema: {
          tags: ['status'],
          response: { 200: Type.Record(Type.String(), Type.Unknown()), ...ERRORS },
        },
      },
      async (req) => {
        requirePermission(principal(req), 'read');
        return deps.status();
      },
    );

    app.get('/whoami', { schema: { tags: ['status'] } }, async (req) => principal(req));

    for (const routes of [
      tenantRoutes,
      keyRoutes,
      channelRoutes,
      contractRoutes,
      modelRoutes,
      groupRoutes,
      auditRoutes,
      tokenRoutes,
    ]) {
      await app.register(routes(deps.registry, deps.store));
    }
    // Inside this plugin, so the authentication hook above applies to it too.
    if (deps.bets) await app.register(betsRoutes(deps.bets));
    if (deps.drift) await app.register(driftRoutes(deps.drift, deps.store));
    if (deps.classification) await app.register(classificationRoutes(deps.classification));
    if (deps.upgrades) await app.register(upgradeRoutes(deps.upgrades));
    if (deps.metrics) await app.register(metricsRoutes(deps.metrics));
  };
