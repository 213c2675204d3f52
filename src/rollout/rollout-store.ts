import type { TenantRollout, Upgrade } from './rollout-types.js';

/** The rollout store port: upgrades and per-tenant rollouts, with guarded status writes. */
export interface RolloutStore {
  createUpgrade(upgrade: Upgrade, rollouts: TenantRollout[]): Promise<void>;
  getUpgrade(id: string): Promise<Upgrade | undefined>;
  listUpgrades(): Promise<Upgrade[]>;
  /** Writes the upgrade only if its stored version is `expectedVersion`. */
  updateUpgrade(upgrade: Upgrade, expectedVersion: number): Promise<boolean>;
  listRollouts(filter: { upgradeId?: string; tenantId?: string }): Promise<TenantRollout[]>;
  getRollout(id: string): Promise<TenantRollout | undefined>;
  /** The one status write of a reconcile pass; false when another writer got there first. */
  updateRollout(rollout: TenantRollout, expectedVersion: number): Promise<boolean>;
}
