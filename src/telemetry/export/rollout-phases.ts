import type { RolloutStore } from '../../rollout/rollout-store.js';
import type { RolloutPhase } from '../../rollout/rollout-types.js';

/** Every phase (the record makes the compiler check the list is complete), exported as 0 when empty. */
const NONE_IN: Record<RolloutPhase, 0> = {
  pending: 0,
  gating: 0,
  blocked: 0,
  shadow: 0,
  canary: 0,
  awaiting_approval: 0,
  paused: 0,
  rolling_back: 0,
  rolled_back: 0,
  complete: 0,
  skipped: 0,
};
export const ROLLOUT_PHASES = Object.keys(NONE_IN) as RolloutPhase[];

/**
 * Tenant rollouts per phase, for the `switchyard_rollouts` gauge: those of upgrades still
 * running or paused (finished upgrades are history, and reading them at every scrape would grow
 * without bound).
 */
export function rolloutPhaseCounts(
  store: Pick<RolloutStore, 'listUpgrades' | 'listRollouts'>,
): () => Promise<Record<string, number>> {
  return async () => {
    const counts: Record<string, number> = { ...NONE_IN };
    const live = (await store.listUpgrades()).filter((u) => u.state === 'running' || u.state === 'paused');
    const lists = await Promise.all(live.map((u) => store.listRollouts({ upgradeId: u.id })));
    for (const r of lists.flat()) counts[r.phase] = (counts[r.phase] ?? 0) + 1;
    return counts;
  };
}
