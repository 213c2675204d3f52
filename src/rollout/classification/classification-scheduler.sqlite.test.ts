import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InProcessChangeBus } from '../../registry/change-bus.js';
import { RegistryService } from '../../registry/registry-service.js';
import { SqlRegistryStore } from '../../registry/sql-registry-store.js';
import { ManualClock } from '../../shared/clock.js';
import { migrate } from '../../storage/migrations.js';
import { MIGRATIONS } from '../../storage/schema.js';
import { SqliteDatabase } from '../../storage/sqlite-database.js';
import { SYSTEM } from '../../test-support/registry-fixtures.js';
import { SqlRolloutStore } from '../sql-rollout-store.js';
import { ClassificationScheduler, type ScheduleTick } from './classification-scheduler.js';
import { ClassificationService } from './classification-service.js';
import { SqlClassificationStore } from './classification-store.js';

const DAY = 24 * 3600 * 1000;
const HOUR = 3600 * 1000;

let dir: string;
let clock: ManualClock;
const opened: SqliteDatabase[] = [];

/** One Switchyard process's classification pieces, on its own connection to the shared file. */
async function instance(holder: string, file: string) {
  const db = new SqliteDatabase(file);
  opened.push(db);
  await migrate(db, MIGRATIONS);
  const store = new SqlRegistryStore(db);
  const registry = new RegistryService(store, new InProcessChangeBus(), clock);
  await registry.seedDefaultGroups(SYSTEM);
  const records = new SqlClassificationStore(db);
  const service = new ClassificationService({
    registry,
    store,
    records,
    clock,
    rollouts: new SqlRolloutStore(db),
  });
  const scheduler = new ClassificationScheduler({ service, store: records, clock, intervalDays: 91, holder });
  return { db, store, registry, records, service, scheduler };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sy-classification-'));
  clock = new ManualClock(Date.UTC(2026, 0, 1));
});
afterEach(async () => {
  for (const db of opened.splice(0)) await db.close();
  await rm(dir, { recursive: true, force: true });
});

const ran = (ticks: ScheduleTick[]) => ticks.filter((t) => t.ran);

describe('the scheduled re-evaluation across two processes on one SQLite file', () => {
  it('runs once per interval, in apply mode, whichever process checks', async () => {
    const file = join(dir, 'switchyard.db');
    const a = await instance('host-a:1', file);
    const b = await instance('host-b:2', file);
    await a.registry.createTenant(SYSTEM, {
      id: 'mover',
      name: 'Mover',
      riskProfile: { criticality: 'low' },
    });

    // First sight starts the schedule; nothing is moved at installation.
    const first = await Promise.all([a.scheduler.tick(), b.scheduler.tick()]);
    expect(ran(first)).toHaveLength(0);
    expect(first.map((t) => !t.ran && t.reason).sort()).toEqual(['not_due', 'started']);
    expect((await a.store.get('tenant', 'mover'))?.rolloutGroup).toBe('standard');

    clock.advance(90 * DAY);
    expect(ran(await Promise.all([a.scheduler.tick(), b.scheduler.tick()]))).toHaveLength(0);

    clock.advance(DAY);
    const due = await Promise.all([a.scheduler.tick(), b.scheduler.tick()]);
    expect(ran(due)).toHaveLength(1);
    const [run] = ran(due);
    expect(run?.ran && run.result.moves.map((m) => [m.tenantId, m.groupId])).toEqual([['mover', 'pioneers']]);
    expect((await b.store.get('tenant', 'mover'))?.rolloutGroup).toBe('pioneers');
    const [audit] = await b.store.listAudit({ entityKind: 'tenant', entityId: 'mover', limit: 1 });
    expect(audit?.actor).toBe('system:classification');
    expect(audit?.reason).toContain('scheduled re-evaluation (every 91 days)');

    // Checked again at once, and repeatedly: nothing more runs in this interval.
    for (let i = 0; i < 3; i++) {
      clock.advance(HOUR);
      expect(ran(await Promise.all([a.scheduler.tick(), b.scheduler.tick()]))).toHaveLength(0);
    }

    clock.advance(91 * DAY);
    expect(ran(await Promise.all([b.scheduler.tick(), a.scheduler.tick()]))).toHaveLength(1);

    const scheduled = (await a.records.listRecords('mover', 10)).filter((r) => r.trigger === 'schedule');
    expect(scheduled.map((r) => r.outcome)).toEqual(['unchanged', 'moved']);
    const state = await a.records.getSchedule('fleet');
    expect(state).toMatchObject({ runs: 2, lastResult: { evaluated: 1, moves: [], unchanged: 1 } });
  });

  it('a run that failed is retried once it is stale, not before', async () => {
    const a = await instance('host-a:1', join(dir, 'switchyard.db'));
    let calls = 0;
    const flaky = new ClassificationScheduler({
      service: {
        runFleet: async (ctx, opts) => {
          calls++;
          if (calls === 1) throw new Error('database went away');
          return a.service.runFleet(ctx, opts);
        },
      },
      store: a.records,
      clock,
      intervalDays: 91,
      holder: 'host-a:1',
      staleAfterMs: 2 * HOUR,
    });
    await flaky.tick();
    clock.advance(91 * DAY);
    await expect(flaky.tick()).rejects.toThrow('database went away');
    clock.advance(HOUR);
    expect(await flaky.tick()).toMatchObject({ ran: false, reason: 'in_progress' });
    clock.advance(HOUR);
    expect(await flaky.tick()).toMatchObject({ ran: true });
    expect(calls).toBe(2);
    expect(await a.records.getSchedule('fleet')).toMatchObject({ runs: 2 });
  });

  it('start checks at once and stop waits for the check', async () => {
    const a = await instance('host-a:1', join(dir, 'switchyard.db'));
    const errors: unknown[] = [];
    const s = new ClassificationScheduler({
      service: a.service,
      store: a.records,
      clock,
      intervalDays: 91,
      holder: 'host-a:1',
      onError: (e) => errors.push(e),
    });
    s.start();
    await s.stop();
    expect(await a.records.getSchedule('fleet')).toMatchObject({ holder: 'host-a:1', runs: 0 });
    expect(errors).toEqual([]);
  });

  it('refuses a non-positive interval', () => {
    expect(
      () =>
        new ClassificationScheduler({
          service: { runFleet: async () => Promise.reject(new Error('unused')) },
          store: new SqlClassificationStore(new SqliteDatabase(':memory:')),
          clock,
          intervalDays: 0,
          holder: 'x',
        }),
    ).toThrow(/intervalDays/);
  });
});
