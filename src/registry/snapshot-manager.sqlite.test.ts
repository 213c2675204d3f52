import { describe, expect, it } from 'vitest';
import { memorySqlite, registryOver, seedModels, seedTenant } from '../test-support/registry-fixtures.js';
import type { ChangeBus } from './change-bus.js';
import { SnapshotManager } from './snapshot-manager.js';

/** A bus that drops every message, as a flaky network would; only its version key works. */
class LossyBus implements ChangeBus {
  latest = 0;
  async publish(v: number) {
    this.latest = Math.max(this.latest, v);
  }
  subscribe() {
    return () => {};
  }
  async latestVersion() {
    return this.latest;
  }
  healthy() {
    return true;
  }
  async close() {}
}

describe('snapshot manager', () => {
  it('swaps in a new snapshot on a change notification, without touching the old one', async () => {
    const env = await registryOver(await memorySqlite());
    await seedModels(env.registry);
    const mgr = new SnapshotManager({ store: env.store, bus: env.bus, clock: env.clock });
    await mgr.start();
    const first = mgr.current();
    expect(first.tenants.size).toBe(0);
    await seedTenant(env.registry);
    await new Promise((r) => setTimeout(r, 20));
    const second = mgr.current();
    expect(second.version).toBe(await env.store.version());
    expect(second.tenants.get('acme')?.channels.get('gpt-x')?.stable.id).toBe('gpt-x-2026-01');
    expect(first.tenants.size).toBe(0);
    await mgr.stop();
  });

  it('catches a lost message by checking the bus version', async () => {
    const env = await registryOver(await memorySqlite());
    const bus = new LossyBus();
    const mgr = new SnapshotManager({
      store: env.store,
      bus,
      clock: env.clock,
      busCheckIntervalMs: 10,
      storeCheckIntervalMs: 600_000,
    });
    await mgr.start();
    await seedModels(env.registry);
    await bus.publish(await env.store.version());
    const target = await env.store.version();
    for (let i = 0; i < 200 && mgr.current().version < target; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(mgr.current().version).toBe(target);
    expect(mgr.current().models.size).toBe(2);
    await mgr.stop();
  });

  it('catches changes by checking the database when the bus says nothing at all', async () => {
    const env = await registryOver(await memorySqlite());
    const bus = new LossyBus();
    const mgr = new SnapshotManager({
      store: env.store,
      bus,
      clock: env.clock,
      busCheckIntervalMs: 600_000,
      storeCheckIntervalMs: 100,
    });
    await mgr.start();
    await seedModels(env.registry);
    const target = await env.store.version();
    for (let i = 0; i < 200 && mgr.current().version < target; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(mgr.current().version).toBe(target);
    await mgr.stop();
  });

  it('keeps serving its snapshot and reports stale when the store fails', async () => {
    const db = await memorySqlite();
    const env = await registryOver(db);
    const mgr = new SnapshotManager({ store: env.store, bus: env.bus, clock: env.clock });
    await mgr.start();
    const held = mgr.current();
    await db.close();
    await mgr.reload();
    expect(mgr.stale()).toBe(true);
    expect(mgr.current()).toBe(held);
    await mgr.stop();
  });
});
