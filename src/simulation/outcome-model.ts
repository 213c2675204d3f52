import type { Outcomes, Scenario } from './scenario.js';

export type ResolvedOutcomes = Required<Outcomes>;

/** A healthy model version's live traffic, before a scenario's layers. */
export const HEALTHY: ResolvedOutcomes = {
  toolCallFailureRate: 0.01,
  coercionRate: 0.002,
  errorRate: 0.002,
  taskFailureRate: 0.04,
  downstreamErrorRate: 0.01,
  latencyMs: 600,
  judgeSimilarity: 0.93,
};

const HOUR = 3_600_000;

function layer(base: ResolvedOutcomes, over: Outcomes | undefined): ResolvedOutcomes {
  if (!over) return base;
  const out = { ...base };
  for (const key of Object.keys(HEALTHY) as (keyof ResolvedOutcomes)[]) {
    const v = over[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/**
 * What a tenant's live requests to a version look like at a moment: the healthy baseline, then
 * the scenario's default, the version's own layer, and any incident of this tenant and version
 * active at that time (later incidents win).
 */
export class OutcomeModel {
  private readonly base: ResolvedOutcomes;
  constructor(
    private readonly scenario: Scenario,
    private readonly startMs: number,
  ) {
    this.base = layer(HEALTHY, scenario.behaviour.default);
  }

  at(tenantId: string, versionId: string, nowMs: number): ResolvedOutcomes {
    let out = layer(this.base, this.scenario.behaviour.versions[versionId]);
    const hours = (nowMs - this.startMs) / HOUR;
    for (const i of this.scenario.behaviour.incidents) {
      if (i.tenant !== tenantId || i.version !== versionId) continue;
      if (hours < i.fromHour || (i.toHour !== undefined && hours >= i.toHour)) continue;
      const { tenant: _t, version: _v, fromHour: _f, toHour: _h, ...rates } = i;
      out = layer(out, rates);
    }
    return out;
  }
}
