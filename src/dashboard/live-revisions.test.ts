import { describe, expect, it } from 'vitest';
import { LiveRevisions } from './live-revisions.js';

describe('live revisions', () => {
  it('tells each watcher when the revision of its own scope moves, once', async () => {
    const current = new Map<string | null, string>([
      [null, 'p1'],
      ['bank', 'b1'],
    ]);
    const asked: (string | null)[][] = [];
    const live = new LiveRevisions(
      async (scopes) => {
        asked.push([...scopes]);
        return new Map(scopes.map((s) => [s, current.get(s) ?? 'none']));
      },
      60_000,
      () => {},
    );
    const platform: string[] = [];
    const bank: string[] = [];
    const stopPlatform = live.subscribe(
      null,
      'p1',
      (r) => platform.push(r),
      () => {},
    );
    live.subscribe(
      'bank',
      'b1',
      (r) => bank.push(r),
      () => {},
    );
    await live.check();
    expect(platform).toEqual([]);
    expect(asked).toEqual([[null, 'bank']]);
    current.set(null, 'p2');
    await live.check();
    await live.check();
    expect(platform).toEqual(['p2']);
    expect(bank).toEqual([]);
    current.set('bank', 'b2');
    stopPlatform();
    await live.check();
    expect(bank).toEqual(['b2']);
    expect(asked.at(-1)).toEqual(['bank']);
    expect(live.watchers).toBe(1);
  });

  it('reports a failed check and keeps watching; close ends every stream', async () => {
    const errors: unknown[] = [];
    let fail = true;
    const live = new LiveRevisions(
      async (scopes) => {
        if (fail) throw new Error('db down');
        return new Map(scopes.map((s) => [s, 'r2']));
      },
      60_000,
      (e) => errors.push(e),
    );
    const got: string[] = [];
    let ended = 0;
    live.subscribe(
      null,
      'r1',
      (r) => got.push(r),
      () => ended++,
    );
    await live.check();
    expect(errors).toHaveLength(1);
    fail = false;
    await live.check();
    expect(got).toEqual(['r2']);
    live.close();
    expect(ended).toBe(1);
    expect(live.watchers).toBe(0);
  });
});
