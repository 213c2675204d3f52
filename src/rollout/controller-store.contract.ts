import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openGuard } from '../guard/decide.js';
import type { SqlDatabase } from '../storage/sql-database.js';
import { buildIncidentReport, SqlIncidentStore } from './incident.js';
import { SqlNotificationOutbox } from './notifications.js';
import type { TenantRollout, Upgrade } from './rollout-types.js';
import { SqlRolloutStore } from './sql-rollout-store.js';

const upgrade: Upgrade = {
  id: 'upg_1',
  channel: 'gpt-x',
  fromVersionId: 'a',
  toVersionId: 'b',
  state: 'running',
  createdBy: 'alice',
  reason: null,
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
  phase: 'canary',
  resumePhase: null,
  stage: 1,
  phaseSince: 1_000,
  startedAt: 1_000,
  rollbackStep: null,
  reason: null,
  approvals: [],
  appliedSteps: [],
  version: 1,
  createdAt: upgrade.createdAt,
  updatedAt: upgrade.createdAt,
});

const report = (id: string, tenantId: string, nowMs: number) =>
  buildIncidentReport({
    id,
    kind: 'rollback',
    upgradeId: 'upg_1',
    rolloutId: `ro_${tenantId}`,
    tenantId,
    channel: 'gpt-x',
    groupId: 'standard',
    candidateVersionId: 'b',
    stableVersionId: 'a',
    nowMs,
    reason: 'tool-call failures',
    stoppedAt: { phase: 'canary', stage: 2, canaryPercent: 25 },
    trigger: null,
    buckets: [],
    window: { fromMs: 0, toMs: nowMs },
    latency: null,
    samples: [],
    sessionsCut: 3,
  });

/** The controller's storage (status JSON, history, incidents, outbox) on every database. */
export function describeControllerStoreContract(
  name: string,
  open: () => Promise<{ db: SqlDatabase; cleanup: () => Promise<void> }>,
) {
  describe(`controller store: ${name}`, () => {
    let db: SqlDatabase;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ db, cleanup } = await open());
    });
    afterEach(async () => cleanup());

    it('writes the status with its control JSON (non-finite numbers kept) and history in one guarded write', async () => {
      const store = new SqlRolloutStore(db);
      await store.createUpgrade(upgrade, [rollout('acme')]);
      const guard = openGuard(1_000);
      const next: TenantRollout = {
        ...rollout('acme'),
        version: 2,
        control: {
          window: 'canary:1',
          guard: {
            ...guard,
            ledger: {
              ...guard.ledger,
              rates: {
                ...guard.ledger.rates,
                coercion: { ...guard.ledger.rates.coercion, logE: Number.NEGATIVE_INFINITY },
              },
            },
          },
          decision: null,
          trigger: null,
          stoppedAt: null,
          betsRuns: ['run_1'],
        },
      };
      const event = {
        upgradeId: 'upg_1',
        rolloutId: 'ro_acme',
        tenantId: 'acme',
        atMs: 5,
        actor: 'controller',
        action: 'transition',
        detail: 'x',
      };
      expect(await store.writeStatus(next, 1, [event])).toBe(true);
      expect(await store.writeStatus({ ...next, version: 3 }, 1, [{ ...event, detail: 'lost' }])).toBe(false);
      const back = await store.getRollout('ro_acme');
      expect(back).toEqual(next);
      expect(back?.control?.guard.ledger.rates.coercion.logE).toBe(Number.NEGATIVE_INFINITY);
      await store.appendEvent({ ...event, rolloutId: null, tenantId: null, action: 'pause', detail: null });
      expect((await store.listEvents({ upgradeId: 'upg_1', limit: 10 })).map((e) => e.action)).toEqual([
        'transition',
        'pause',
      ]);
      expect(await store.listEvents({ upgradeId: 'upg_1', tenantId: 'acme', limit: 10 })).toEqual([event]);
    });

    it('stores an incident once per id and lists them newest first, per tenant', async () => {
      const incidents = new SqlIncidentStore(db);
      expect(await incidents.put(report('inc_1', 'acme', 1_000))).toBe(true);
      expect(await incidents.put({ ...report('inc_1', 'acme', 9_000), reason: 'changed' })).toBe(false);
      expect(await incidents.put(report('inc_2', 'globex', 2_000))).toBe(true);
      expect(await incidents.get('inc_1')).toEqual(report('inc_1', 'acme', 1_000));
      expect((await incidents.list({ limit: 10 })).map((i) => i.id)).toEqual(['inc_2', 'inc_1']);
      expect((await incidents.list({ tenantId: 'acme', limit: 10 })).map((i) => i.id)).toEqual(['inc_1']);
      expect(await incidents.list({ tenantId: 'acme', upgradeId: 'upg_other', limit: 10 })).toEqual([]);
    });

    it('enqueues a notification once per endpoint and lets exactly one claimer take a due delivery', async () => {
      const outbox = new SqlNotificationOutbox(db);
      const n = {
        id: 'ntf_1',
        event: 'rolled_back',
        upgradeId: 'upg_1',
        rolloutId: 'ro_acme',
        tenantId: 'acme',
        channel: 'gpt-x',
        detail: 'd',
        incidentId: null,
        atMs: 100,
      };
      expect(await outbox.enqueue(n, ['e1', 'e2'], 100)).toBe(2);
      expect(await outbox.enqueue(n, ['e1', 'e2'], 200)).toBe(0);
      const due = await outbox.due(100, 10);
      expect(due.map((d) => d.endpointId)).toEqual(['e1', 'e2']);
      const first = due[0];
      if (!first) throw new Error('nothing due');
      const claims = await Promise.all([outbox.claim(first, 500), outbox.claim(first, 500)]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect((await outbox.due(100, 10)).map((d) => d.endpointId)).toEqual(['e2']);
      await outbox.delivered(first.id, 150);
      expect((await outbox.list({ state: 'delivered', limit: 10 })).map((d) => [d.id, d.attempts])).toEqual([
        ['ntf_1|e1', 1],
      ]);
    });
  });
}
