import type { TenantRollout, Upgrade } from './rollout-types.js';

/** One line of an upgrade's history: a person's action (start, approve, pause) or the controller's. */
export interface RolloutEvent {
  upgradeId: string;
  rolloutId: string | null;
  tenantId: string | null;
  atMs: number;
  actor: string;
  action: string;
  detail: string | null;
}

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
  /** updateRollout and the history lines it explains, in one transaction; nothing when it loses. */
  writeStatus(
    rollout: TenantRollout,
    expectedVersion: number,
    events: readonly RolloutEvent[],
  ): Promise<boolean>;
  appendEvent(event: RolloutEvent): Promise<void>;
  /** The newest `limit` events, oldest first. */
  listEvents(filter: { upgradeId: string; tenantId?: string; limit: number }): Promise<RolloutEvent[]>;
}
