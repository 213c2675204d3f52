import type { SuiteService } from '../bets/suite-service.js';
import type { ChangeContext, RegistryService } from '../registry/registry-service.js';
import type { RegistryStore } from '../registry/registry-store.js';
import type { ContractDefinition } from '../registry/types.js';
import type { FleetSpec, FleetTenant, FleetVersion } from './fleet-spec.js';
import { tenantMaterial } from './fleet-tenant-material.js';

export interface SeedOptions {
  /** Where the fleet's model versions are served (the simulator's OpenAI-compatible base URL). */
  endpoint: string;
  /** Folder of BFCL files for tenants that take cases from BFCL (default: the shipped slices). */
  bfclDir?: string;
  ctx?: ChangeContext;
}

export interface SeededTenant {
  tenantId: string;
  /** The API key its agents use (returned once; only its hash is stored). */
  apiKey: string;
  tools: string[];
  cases: number;
  /** BFCL cases left out because they clash with a tool schema the tenant already has. */
  skippedCases: string[];
}

export interface SeededFleet {
  tenants: SeededTenant[];
  /** Tenants already present, left as they were. */
  existing: string[];
}

const SEED_CTX: ChangeContext = { actor: 'system:fleet-seed', reason: 'demo fleet' };

/**
 * Writes a fleet into the registry and BETS, through the same audited services the API uses:
 * the three model versions, then per tenant its record, an API key, the channel binding on the
 * stable version, its tool and format contracts (for both versions: a tenant's tools do not change
 * with the model) and its golden-case suite. Tenants that exist already are left alone, so
 * seeding twice is harmless.
 */
export async function seedFleet(
  registry: RegistryService,
  store: RegistryStore,
  suites: SuiteService,
  fleet: FleetSpec,
  opts: SeedOptions,
): Promise<SeededFleet> {
  const ctx = opts.ctx ?? SEED_CTX;
  const versions: [FleetVersion, 'active' | 'candidate'][] = [
    [fleet.stable, 'active'],
    [fleet.candidate, 'candidate'],
  ];
  if (fleet.judge) versions.push([fleet.judge, 'active']);
  for (const [v, lifecycle] of versions) {
    if (await store.get('model_version', v.id)) continue;
    await registry.createModel(ctx, {
      id: v.id,
      channel: v === fleet.judge ? 'judge' : fleet.channel,
      providerKind: 'openai-compatible',
      upstreamModel: v.upstreamModel,
      endpoint: opts.endpoint,
      lifecycle,
    });
  }
  const out: SeededFleet = { tenants: [], existing: [] };
  for (const t of fleet.tenants) {
    if (await store.get('tenant', t.id)) {
      out.existing.push(t.id);
      continue;
    }
    out.tenants.push(await seedTenant(registry, suites, fleet, t, ctx, opts));
  }
  return out;
}

async function seedTenant(
  registry: RegistryService,
  suites: SuiteService,
  fleet: FleetSpec,
  t: FleetTenant,
  ctx: ChangeContext,
  opts: SeedOptions,
): Promise<SeededTenant> {
  const material = await tenantMaterial(t, opts.bfclDir);
  await registry.createTenant(ctx, {
    id: t.id,
    name: t.name,
    rolloutGroup: t.group,
    ...(t.failurePolicy ? { failurePolicy: t.failurePolicy } : {}),
    ...(t.actionPolicy ? { actionPolicy: t.actionPolicy } : {}),
    ...(t.riskProfile ? { riskProfile: t.riskProfile } : {}),
    contacts: [{ name: `${t.name} on-call`, email: `oncall@${t.id}.example` }],
  });
  const key = await registry.createApiKey(ctx, t.id, { label: 'agents' });
  await registry.bindChannel(ctx, t.id, { channel: fleet.channel, stableVersionId: fleet.stable.id });
  const contracts: { name: string; definition: ContractDefinition }[] = material.tools.map((tool) => ({
    name: tool.name,
    definition: {
      kind: 'tool',
      ...(tool.description ? { description: tool.description } : {}),
      parameters: tool.parameters,
    },
  }));
  if (t.format) {
    contracts.push({
      name: 'output',
      definition:
        t.format.kind === 'json_schema'
          ? { kind: 'format_json_schema', schema: t.format.schema }
          : { kind: 'format_regex', pattern: t.format.pattern },
    });
  }
  for (const modelVersionId of [fleet.stable.id, fleet.candidate.id]) {
    for (const c of contracts) await registry.registerContract(ctx, t.id, { modelVersionId, ...c });
  }
  if (material.cases.length > 0) {
    await suites.importCases(
      t.id,
      'main',
      {
        candidates: material.cases.map((spec) => ({ spec, source: t.bfcl ? 'bfcl' : 'manual' })),
        skipInvalid: true,
        create: {
          workflow: 'main',
          channel: fleet.channel,
          name: `${t.name}: golden cases`,
          config: { judgeVersionId: fleet.judge?.id ?? null },
        },
        note: 'seeded with the fleet',
      },
      undefined,
      ctx.actor,
    );
  }
  if (t.frozen)
    await registry.updateTenant(ctx, t.id, { frozen: true, reason: 'frozen during a data migration' });
  return {
    tenantId: t.id,
    apiKey: key.secret,
    tools: material.tools.map((x) => x.name),
    cases: material.cases.length,
    skippedCases: material.skipped.map((x) => x.caseId),
  };
}
