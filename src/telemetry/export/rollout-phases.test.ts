import { describe, expect, it } from 'vitest';
import type { RolloutPhase, TenantRollout, Upgrade, UpgradeState } from '../../rollout/rollout-types.js';
import { ROLLOUT_PHASES, rolloutPhaseCounts } from './rollout-phases.js';

const upgrade = (id: string, state: UpgradeState): Upgrade => ({
  id,
  channel: 'gpt-5',
  fromVersionId: 'v1',
  toVersionId: 'v2',
  state,
  createdBy: 'op',
  reason: null,
  version: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

const rollout = (upgradeId: string, tenantId: string, phase: RolloutPhase): TenantRollout => ({
  id: `${upgradeId}:${tenantId}`,
  upgradeId,
  tenantId,
  channel: 'gpt-5',
  groupId: 'standard',
  phase,
  resumePhase: null,
  stage: 0,
  phaseSince: 0,
  startedAt: 0,
  rollbackStep: null,
  reason: null,
  approvals: [],
  appliedSteps: [],
  version: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

describe('rolloutPhaseCounts', () => {
  it('counts the rollouts of running and paused upgrades by phase, every phase present', async () => {
    const rollouts = [
      rollout('u1', 'a', 'canary'),
      rollout('u1', 'b', 'canary'),
      rollout('u1', 'c', 'rolled_back'),
      rollout('u2', 'a', 'paused'),
      rollout('old', 'a', 'complete'),
      rollout('stopped', 'a', 'canary'),
    ];
    const read = rolloutPhaseCounts({
      listUpgrades: async () => [
        upgrade('u1', 'running'),
        upgrade('u2', 'paused'),
        upgrade('old', 'complete'),
        upgrade('stopped', 'aborted'),
      ],
      listRollouts: async ({ upgradeId }) => rollouts.filter((r) => r.upgradeId === upgradeId),
    });
    const counts = await read();
    expect(Object.keys(counts).sort()).toEqual([...ROLLOUT_PHASES].sort());
    expect(counts).toMatchObject({ canary: 2, rolled_back: 1, paused: 1, complete: 0, pending: 0 });
  });
});
