import { isDeepStrictEqual } from 'node:util';
import { DEFAULT_GROUPS } from '../registry/default-groups.js';
import type { ChangeContext, RegistryService } from '../registry/registry-service.js';
import type { RegistryStore } from '../registry/registry-store.js';
import type { RolloutPlan } from '../registry/types.js';

/**
 * What makes the demo's whole upgrade play out in a few real minutes, as data: shorter plans for
 * the rollout groups and a traffic mix that feeds the guard. Neither the controller nor the guard
 * is changed for the demo.
 *
 * Two clocks limit a stage. Its soak is simulated time, which the demo's clock runs fast. The
 * guard's evidence is real traffic: a canary stage moves on only once the guard has seen at least
 * 100 canary requests (its minimum sample, per signal), and at 5% of a tenant's sessions that takes
 * real minutes whatever the clock does. So the demo's soaks are given in real seconds (turned into
 * plan hours at the demo's time scale: at 120×, 30 s is an hour), sized so that every stage's
 * guard has its samples by the end of the soak; and the traffic goes mostly to the tenants whose
 * canary stages are small.
 */

/** Real seconds of shadow and of each canary stage's soak, per group (same stages as the defaults). */
const DEMO_SECONDS: Readonly<Record<string, { shadow: number; soaks: readonly number[] }>> = {
  // Pioneers keep the default plan: 100% at once, no shadow, no soak.
  // Early adopters (10%, 100%): the 10% soak outlasts the time support-bot's canary needs to show
  // the guard 100 tool calls (about two and a half minutes at its share below), so its regression
  // is caught at 10%, not after a promotion to 100%.
  early: { shadow: 30, soaks: [240, 30] },
  // Standard (5%, 25%, 50%, 100%): 5% of a standard tenant's sessions reach 100 requests in about
  // two and a half minutes; the later stages fill faster.
  standard: { shadow: 60, soaks: [120, 45, 45, 0] },
  // Conservative (1%, 10%, 50%, 100%, each needing both approvals): two minutes of shadow, then
  // the first stage waits for a person. At 1% the guard needs hours of demo traffic per stage.
  conservative: { shadow: 120, soaks: [180, 180, 180, 0] },
};

/**
 * Share of the demo's agent sessions per tenant (percent). The fleet's own `requestsPerHour`
 * describes a production mix (support-bot busiest); the demo instead gives most sessions to the
 * standard tenants, whose 5% stage is the slowest to collect the guard's samples, then the early
 * adopters at 10%. Pioneers go to 100% at once and need little; conservative tenants only shadow
 * until someone approves; logistics-planner is blocked at BETS and data-pipeline frozen.
 */
export const DEMO_TRAFFIC_SHARE: Readonly<Record<string, number>> = {
  'code-reviewer': 16,
  'finance-analyst': 16,
  'hr-assistant': 16,
  'support-bot': 20,
  'travel-booker': 10,
  'sales-crm': 10,
  'math-tutor': 1.5,
  'weather-concierge': 1.5,
  'research-agent': 1.5,
  'legal-summarizer': 2.5,
  'medical-intake': 2.5,
  'logistics-planner': 1.5,
  'data-pipeline': 1,
};

/** A tenant's demo traffic weight: its share above, or a small one for a tenant not listed. */
export function demoTrafficWeight(tenantId: string): number {
  return DEMO_TRAFFIC_SHARE[tenantId] ?? 1;
}

const hoursAt = (timeScale: number, seconds: number) => Number(((seconds * timeScale) / 3600).toFixed(4));

/** The demo's plans for the default groups it shortens, at this time scale. */
export function demoPlans(timeScale: number): Record<string, RolloutPlan> {
  const out: Record<string, RolloutPlan> = {};
  for (const g of DEFAULT_GROUPS) {
    const s = DEMO_SECONDS[g.id];
    if (!s) continue;
    const hours = (seconds: number) => hoursAt(timeScale, seconds);
    out[g.id] = {
      ...g.plan,
      stages: g.plan.stages.map((stage, i) => ({ ...stage, soakHours: hours(s.soaks[i] ?? 0) })),
      shadowHours: hours(s.shadow),
      // At least shadow plus every soak: it never holds a rollout longer than its stages do.
      minDurationHours: hours(s.shadow + s.soaks.reduce((a, b) => a + b, 0)),
    };
  }
  return out;
}

const DEMO_CTX: ChangeContext = {
  actor: 'system:demo',
  reason: 'demo: the default plans with soaks of real seconds, so the upgrade plays out in minutes',
};

/**
 * Writes the demo's plans into the rollout groups through the audited registry (they show in the
 * audit log and on every tenant page). A group whose plan is no longer the default (an operator
 * changed it) is left alone. Returns the groups changed.
 */
export async function applyDemoPlans(
  registry: RegistryService,
  store: RegistryStore,
  timeScale: number,
): Promise<string[]> {
  const changed: string[] = [];
  for (const [id, plan] of Object.entries(demoPlans(timeScale))) {
    const group = await store.get('rollout_group', id);
    const defaults = DEFAULT_GROUPS.find((g) => g.id === id);
    if (!group || !defaults || !isDeepStrictEqual(group.plan, defaults.plan)) continue;
    await registry.updateGroup(DEMO_CTX, id, { plan }, group.version);
    changed.push(id);
  }
  return changed;
}
