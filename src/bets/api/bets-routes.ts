import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RegistryStore } from '../../registry/registry-store.js';
import type { Clock } from '../../shared/clock.js';
import type { BetsStore } from '../bets-store.js';
import type { RefreshService } from '../capture/refresh-service.js';
import type { FleetService } from '../fleet-service.js';
import type { RunService } from '../run-service.js';
import type { SuiteService } from '../suite-service.js';
import { captureRoutes } from './capture-routes.js';
import { runRoutes } from './run-routes.js';
import { suiteRoutes } from './suite-routes.js';

export interface BetsRouteDeps {
  store: BetsStore;
  registry: RegistryStore;
  suites: SuiteService;
  runs: RunService;
  fleet: FleetService;
  refresh: RefreshService;
  clock: Clock;
}

/**
 * The BETS admin routes, to be registered inside the admin API plugin (whose onRequest hook
 * authenticates the principal): suites and cases, import/export, runs and reports, verdicts,
 * fleet runs, capture settings and the review of captured examples.
 */
export const betsRoutes =
  (deps: BetsRouteDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    await app.register(suiteRoutes(deps.suites));
    await app.register(runRoutes(deps.store, deps.runs, deps.fleet));
    await app.register(captureRoutes(deps.store, deps.registry, deps.refresh, deps.clock));
  };
