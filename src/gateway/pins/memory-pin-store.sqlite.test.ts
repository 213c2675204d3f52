import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { migrate } from '../../storage/migrations.js';
import { SqliteDatabase } from '../../storage/sqlite-database.js';
import { ALL_MIGRATIONS } from '../test-support/gateway-harness.js';
import { MemoryPinStore } from './memory-pin-store.js';
import type { PinPersistence } from './pin-persistence.js';
import { SqlPinPersistence } from './sql-pin-persistence.js';

const HOUR = 3600_000;
let db: SqliteDatabase;
let clock: ManualClock;

const store = (persistence: PinPersistence = new SqlPinPersistence(db), capacity = 1000) =>
  new MemoryPinStore({ clock, capacity, maxTtlMs: HOUR, persistence, flushIntervalMs: 60_000 });

beforeEach(async () => {
  db = new SqliteDatabase(':memory:');
  await migrate(db, ALL_MIGRATIONS);
  clock = new ManualClock();
});
afterEach(async () => {
  await db.close();
});

describe('MemoryPinStore', () => {
  it('first writer wins', async () => {
    const s = store();
    await s.start();
    expect((await s.getOrSet('t', 's1', 'v1', HOUR)).versionId).toBe('v1');
    expect((await s.getOrSet('t', 's1', 'v2', HOUR)).versionId).toBe('v1');
    expect(s.peek('t', 's2')).toBeUndefined();
    expect(s.stats()).toMatchObject({ cached: 1, misses: 1, hits: 1 });
    await s.close();
  });

  it('survives a restart: pins and cuts are written behind and loaded at start', async () => {
    const a = store();
    await a.start();
    await a.getOrSet('t', 'keep', 'v1', HOUR);
    await a.getOrSet('t', 'short', 'v1', 1000);
    await a.getOrSet('t', 'cut', 'v2', HOUR);
    clock.advance(10);
    await a.hardCut('t', 'v2');
    await a.close();

    clock.advance(2000);
    const b = store();
    await b.start();
    expect(b.peek('t', 'keep')).toMatchObject({ versionId: 'v1', cut: false });
    expect(b.peek('t', 'short')).toBeUndefined();
    expect(b.peek('t', 'cut')).toMatchObject({ versionId: 'v2', cut: true });
    b.replace('t', 'cut', 'v1', HOUR);
    expect(b.peek('t', 'cut')).toMatchObject({ versionId: 'v1', cut: false });
    await b.close();
  });

  it('extends an active session, and expires an idle one', async () => {
    const s = store();
    await s.start();
    await s.getOrSet('t', 'active', 'v1', HOUR);
    await s.getOrSet('t', 'idle', 'v1', HOUR);
    for (let i = 0; i < 4; i++) {
      clock.advance(HOUR / 2);
      expect(s.peek('t', 'active')?.versionId).toBe('v1');
    }
    expect(s.peek('t', 'idle')).toBeUndefined();
    await s.close();
  });

  it('forgets the least recently used pins beyond its capacity', async () => {
    const s = store(new SqlPinPersistence(db), 2);
    await s.start();
    await s.getOrSet('t', 'a', 'v1', HOUR);
    await s.getOrSet('t', 'b', 'v1', HOUR);
    s.peek('t', 'a');
    await s.getOrSet('t', 'c', 'v1', HOUR);
    expect(s.peek('t', 'b')).toBeUndefined();
    expect(s.peek('t', 'a')).toBeDefined();
    await s.close();
  });

  it('reports itself degraded while persistence fails, keeps serving, and recovers', async () => {
    const real = new SqlPinPersistence(db);
    let down = false;
    const flaky: PinPersistence = {
      load: (n, l) => real.load(n, l),
      save: async (p) => {
        if (down) throw new Error('disk full');
        await real.save(p);
      },
      saveCut: (c) => real.saveCut(c),
      prune: (n, c) => real.prune(n, c),
    };
    const s = store(flaky);
    await s.start();
    down = true;
    await s.getOrSet('t', 'x', 'v1', HOUR);
    await s.flush();
    expect(s.health()).toMatchObject({ healthy: false, detail: expect.stringContaining('disk full') });
    expect(s.peek('t', 'x')?.versionId).toBe('v1');
    down = false;
    await s.flush();
    expect(s.health().healthy).toBe(true);
    const reloaded = store();
    await reloaded.start();
    expect(reloaded.peek('t', 'x')?.versionId).toBe('v1');
    await s.close();
    await reloaded.close();
  });
});
