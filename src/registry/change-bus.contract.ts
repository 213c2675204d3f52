import { afterEach, describe, expect, it } from 'vitest';
import type { ChangeBus } from './change-bus.js';

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * The change bus's contract, for every adapter. `pair()` returns two buses that reach each other
 * (two handles on one Redis, or the same in-process bus twice).
 */
export function describeChangeBusContract(name: string, pair: () => Promise<[ChangeBus, ChangeBus]>): void {
  describe(`change bus contract: ${name}`, () => {
    let buses: ChangeBus[] = [];
    afterEach(async () => {
      await Promise.all(buses.map((b) => b.close()));
      buses = [];
    });

    it('delivers a published version to subscribers of the other handle', async () => {
      const [a, b] = await pair();
      buses = [a, b];
      const seen: number[] = [];
      b.subscribe((v) => seen.push(v));
      await a.publish(7);
      await until(() => seen.includes(7));
      expect(await b.latestVersion()).toBe(7);
    });

    it('keeps the latest version monotonic when publishers race', async () => {
      const [a, b] = await pair();
      buses = [a, b];
      await Promise.all([a.publish(12), b.publish(10), a.publish(11)]);
      expect(await a.latestVersion()).toBe(12);
      expect(await b.latestVersion()).toBe(12);
    });

    it('stops delivering after unsubscribe and reports healthy', async () => {
      const [a, b] = await pair();
      buses = [a, b];
      const seen: number[] = [];
      const off = b.subscribe((v) => seen.push(v));
      await a.publish(1);
      await until(() => seen.length === 1);
      off();
      await a.publish(2);
      await new Promise((r) => setTimeout(r, 50));
      expect(seen).toEqual([1]);
      expect(a.healthy() && b.healthy()).toBe(true);
    });
  });
}
