import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../storage/sql-database.js';
import type { TenantRollout, Upgrade } from './rollout-types.js';
import { SqlRolloutStore } from './sql-rollout-store.js';

const upgrade: Upgrade = {
  id: 'upg_1',
  channel: 'gpt-x',
  fromVersionId: 'gpt-x-2026-01',
  toVersionId: 'gpt-x-2026-03',
  state: 'running',
  createdBy: 'alice',
  reason: 'quarterly upgrade',
  version: 1,
  createdAt: '2026-03-01T00:00:00.000Z',
  updatedAt: '2026-03-01T00:00:00.000Z',
};

const rollout = (tenantId: string): TenantRollout => ({
  id: `ro_${tenantId}`,
  upgradeId: 'upg_1',
  tenantId,
  channel: 'gpt-x',
  groupId: 'standard',
  phase: 'pending',
  resumePhase: null,
  stage: 0,
  phaseSince: 1_772_323_200_000,
  startedAt: 1_772_323_200_000,
  rollbackStep: null,
  reason: null,
  approvals: [],
  appliedSteps: [],
  version: 1,
  createdAt: upgrade.createdAt,
  updatedAt: upgrade.createdAt,
});

/** The rollout store's contract on every database. */
export function describeRolloutStoreContract(
  name: string,
  open: () => Promise<{ db: SqlDatabase; cleanup: () => Promise<void> }>,
) {
  describe(`rollout store: ${name}`, () => {
    let db: SqlDatabase;
    let cleanup: () => Promise<void>;
    let store: SqlRolloutStore;
    beforeEach(async () => {
      ({ db, cleanup } = await open());
      store = new SqlRolloutStore(db);
    });
    afterEach(async () => cleanup());

    it('creates an upgrade with its tenant rollouts atomically and reads them back', async () => {
      await store.createUpgrade(upgrade, [rollout('acme'), rollout('globex')]);
      expect(await store.getUpgrade('upg_1')).toEqual(upgrade);
      expect((await store.listRollouts({ upgradeId: 'upg_1' })).map((r) => r.tenantId)).toEqual([
        'acme',
        'globex',
      ]);
      expect(await store.getRollout('ro_acme')).toEqual(rollout('acme'));
      // A duplicate tenant in one upgrade fails the whole creation.
      await expect(
        store.createUpgrade({ ...upgrade, id: 'upg_2' }, [
          { ...rollout('x'), upgradeId: 'upg_2' },
          { ...rollout('x'), id: 'other', upgradeId: 'upg_2' },
        ]),
      ).rejects.toThrow();
      expect(await store.getUpgrade('upg_2')).toBeUndefined();
    });

    it('guards status writes with the version column', async () => {
      await store.createUpgrade(upgrade, [rollout('acme')]);
      const next: TenantRollout = {
        ...rollout('acme'),
        phase: 'canary',
        stage: 2,
        approvals: [{ stage: 2, party: 'platform', by: 'pat', at: '2026-03-02T00:00:00.000Z' }],
        appliedSteps: ['canary:2:-:set_traffic'],
        version: 2,
      };
      expect(await store.updateRollout(next, 1)).toBe(true);
      expect(await store.updateRollout({ ...next, phase: 'complete', version: 3 }, 1)).toBe(false);
      expect(await store.getRollout('ro_acme')).toEqual(next);
      expect(await store.updateUpgrade({ ...upgrade, state: 'paused', version: 2 }, 1)).toBe(true);
      expect(await store.updateUpgrade({ ...upgrade, state: 'aborted', version: 2 }, 1)).toBe(false);
      expect((await store.getUpgrade('upg_1'))?.state).toBe('paused');
      expect(await store.listRollouts({ tenantId: 'acme' })).toHaveLength(1);
    });
  });
}
