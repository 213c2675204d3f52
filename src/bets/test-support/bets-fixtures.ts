import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { AdminAuth } from '../../admin/admin-auth.js';
import { createHttpApp, type HttpApp } from '../../http/create-http-app.js';
import { HttpProviderClient } from '../../providers/http-provider-client.js';
import type { RegistryService } from '../../registry/registry-service.js';
import type { BehaviourProfile, RunningSimulator } from '../../simulator/index.js';
import { knownCasesFromBfcl, startSimulator } from '../../simulator/index.js';
import { migrate } from '../../storage/migrations.js';
import type { SqlDatabase } from '../../storage/sql-database.js';
import { registryOver, SYSTEM } from '../../test-support/registry-fixtures.js';
import { betsRoutes } from '../api/bets-routes.js';
import { BETS_MIGRATIONS } from '../bets-migrations.js';
import { type Bets, type BetsOptions, createBets } from '../bets-module.js';
import type { CaseSpec } from '../bets-types.js';
import { casesFromBfcl } from '../import/bfcl-suite-import.js';

/** Test-only: a registry, a simulator playing the model versions, and BETS wired over them. */

/** BFCL data lives in shared/ beside the repository (also in CI's clone); overridable. */
export const BFCL_DIR =
  process.env.SWITCHYARD_BFCL_DIR ?? fileURLToPath(new URL('../../../../shared/data/bfcl', import.meta.url));
export const SIMPLE = `${BFCL_DIR}/BFCL_v4_simple_python`;

/** The first `n` cases of a BFCL file (and their answers) as JSON Lines texts. */
export function bfclSlice(base: string, n: number, skip = 0): { cases: string; answers: string } {
  const take = (file: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .slice(skip, skip + n)
      .join('\n');
  return { cases: take(`${base}.json`), answers: take(`${base}.answers.json`) };
}

export function bfclCases(n: number, skip = 0): CaseSpec[] {
  const s = bfclSlice(SIMPLE, n, skip);
  return casesFromBfcl(s.cases, s.answers).cases;
}

export interface SimModels {
  stable?: BehaviourProfile;
  candidate?: BehaviourProfile;
  judge?: BehaviourProfile;
}

export async function startSim(models: SimModels = {}): Promise<RunningSimulator> {
  return startSimulator({
    seed: 11,
    models: {
      'sim-stable': models.stable ?? {},
      'sim-candidate': models.candidate ?? {},
      'sim-judge': models.judge ?? { judge: {} },
      'sim-plain': {},
    },
    knownCases: await knownCasesFromBfcl(`${SIMPLE}.json`),
  });
}

/** Model versions of channel gpt-x (stable, candidate), a judge channel and a plain-model channel. */
export async function seedVersions(
  registry: RegistryService,
  sim: RunningSimulator,
  kind: 'openai-compatible' | 'anthropic' = 'openai-compatible',
) {
  const endpoint = kind === 'anthropic' ? sim.url : `${sim.url}/v1`;
  const base = { providerKind: kind, endpoint, credentialsRef: 'none' };
  await registry.createModel(SYSTEM, {
    ...base,
    id: 'gpt-x-01',
    channel: 'gpt-x',
    upstreamModel: 'sim-stable',
    lifecycle: 'active',
  });
  await registry.createModel(SYSTEM, {
    ...base,
    id: 'gpt-x-03',
    channel: 'gpt-x',
    upstreamModel: 'sim-candidate',
  });
  await registry.createModel(SYSTEM, {
    ...base,
    id: 'judge-1',
    channel: 'judge',
    upstreamModel: 'sim-judge',
    lifecycle: 'active',
  });
  await registry.createModel(SYSTEM, {
    ...base,
    id: 'plain-1',
    channel: 'plain',
    upstreamModel: 'sim-plain',
    lifecycle: 'active',
  });
}

export async function seedTenant(registry: RegistryService, id: string, group = 'early') {
  await registry.createTenant(SYSTEM, { id, name: id, rolloutGroup: group });
  await registry.bindChannel(SYSTEM, id, {
    channel: 'gpt-x',
    stableVersionId: 'gpt-x-01',
    candidateVersionId: 'gpt-x-03',
    upgradeId: 'upg-1',
  });
}

export const FAST_RETRY = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 5_000 };

export function providerClient(): HttpProviderClient {
  return new HttpProviderClient({
    connectTimeoutMs: 2_000,
    headersTimeoutMs: 10_000,
    bodyTimeoutMs: 10_000,
    maxConnectionsPerOrigin: 64,
    keepAliveTimeoutMs: 10_000,
  });
}

export interface BetsEnv {
  db: SqlDatabase;
  bets: Bets;
  registry: RegistryService;
  env: Awaited<ReturnType<typeof registryOver>>;
  providers: HttpProviderClient;
  /** Another process's BETS over the same database (for resume). */
  another(opts?: Partial<BetsOptions>): Bets;
  close(): Promise<void>;
}

/** BETS over `db` (already migrated with the registry's migrations) and the simulator. */
export async function betsEnv(
  db: SqlDatabase,
  sim: RunningSimulator,
  opts: Partial<BetsOptions> = {},
  kind: 'openai-compatible' | 'anthropic' = 'openai-compatible',
): Promise<BetsEnv> {
  await migrate(db, BETS_MIGRATIONS);
  const env = await registryOver(db);
  await seedVersions(env.registry, sim, kind);
  const providers = providerClient();
  const make = (o: Partial<BetsOptions>) =>
    createBets({
      db,
      registry: env.store,
      providers,
      clock: env.clock,
      retry: FAST_RETRY,
      defaultConcurrency: 4,
      ...o,
    });
  const bets = make(opts);
  return {
    db,
    bets,
    registry: env.registry,
    env,
    providers,
    another: (o = {}) => make({ ...opts, ...o }),
    async close() {
      await bets.close();
      await providers.close();
    },
  };
}

/**
 * An HTTP app serving the BETS routes behind real admin-token authentication, as the admin API
 * will mount them (its onRequest hook sets the principal).
 */
export async function betsHttpApp(e: BetsEnv): Promise<HttpApp> {
  const auth = new AdminAuth(e.env.store, e.registry);
  const app = await createHttpApp({ logger: pino({ level: 'silent' }), bodyLimitBytes: 4 * 1024 * 1024 });
  await app.register(
    async (scope) => {
      scope.addHook('onRequest', async (req) => {
        req.principal = await auth.authenticate(req);
      });
      await scope.register(betsRoutes(e.bets.routes));
    },
    { prefix: '/admin/v1' },
  );
  await app.ready();
  return app;
}
