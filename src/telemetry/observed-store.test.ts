import { describe, expect, it } from 'vitest';
import { ObservedTelemetryStore, type TelemetryObserver } from './observed-store.js';
import type { TelemetryEvent } from './telemetry-event.js';

const ev = { requestId: 'r1' } as TelemetryEvent;

describe('ObservedTelemetryStore', () => {
  it('writes first, then shows each observer the batch and whether it was stored', async () => {
    const order: string[] = [];
    const store = new ObservedTelemetryStore({
      append: async () => {
        order.push('write');
      },
    });
    const seen: Array<[number, boolean]> = [];
    store.add({ observe: (b, stored) => seen.push([b.length, stored]) });
    store.add({ observe: () => order.push('second') });
    await store.append([ev, ev]);
    expect(order).toEqual(['write', 'second']);
    expect(seen).toEqual([[2, true]]);
  });

  it('still shows a failed batch to observers, marked not stored, and rethrows the write error', async () => {
    const store = new ObservedTelemetryStore({
      append: async () => {
        throw new Error('db down');
      },
    });
    const seen: boolean[] = [];
    store.add({ observe: (_b, stored) => seen.push(stored) });
    await expect(store.append([ev])).rejects.toThrow('db down');
    expect(seen).toEqual([false]);
  });

  it('an observer that throws is reported and does not stop the others', async () => {
    const errors: unknown[] = [];
    const store = new ObservedTelemetryStore({ append: async () => {} }, (e) => errors.push(e));
    const broken: TelemetryObserver = {
      observe: () => {
        throw new Error('boom');
      },
    };
    let reached = false;
    store.add(broken);
    store.add({
      observe: () => {
        reached = true;
      },
    });
    await store.append([ev]);
    expect(reached).toBe(true);
    expect(errors).toHaveLength(1);
  });
});
