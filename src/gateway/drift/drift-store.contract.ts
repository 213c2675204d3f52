import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareResponses } from '../../contracts/drift-compare.js';
import {
  type DriftProfile,
  emptyDriftProfile,
  recordCohortResponse,
  recordPair,
} from '../../contracts/drift-profile.js';
import type { SqlDatabase } from '../../storage/sql-database.js';
import { SqlDriftProfileStore } from './drift-store.js';

const call = (name: string, args: unknown) => ({ name, argumentsText: JSON.stringify(args) });

/** A profile with `n` shadow pairs in which `days` came as a string, and one canary answer. */
function profile(tenantId: string, n: number, at = 1000): DriftProfile {
  const p = emptyDriftProfile(tenantId, 'gpt-1', 'gpt-2');
  for (let i = 0; i < n; i++) {
    recordPair(
      p,
      compareResponses(
        { toolCalls: [call('get_forecast', { city: 'Lisbon', days: 3 })] },
        { toolCalls: [call('get_forecast', { city: 'Lisbon', days: '3' })] },
      ),
      at + i,
    );
  }
  recordCohortResponse(p, 'canary', { toolCalls: [call('get_forecast', { city: 'Oslo', days: '2' })] }, at);
  return p;
}

/** The drift profile store adds counts the same way on every database, never losing a merge. */
export function describeDriftStoreContract(
  name: string,
  open: () => Promise<{ db: SqlDatabase; cleanup: () => Promise<void> }>,
) {
  describe(`drift profile store: ${name}`, () => {
    let db: SqlDatabase;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ db, cleanup } = await open());
    });
    afterEach(async () => cleanup());

    it('creates a profile, then adds later counts to it', async () => {
      const store = new SqlDriftProfileStore(db);
      await store.merge([{ channel: 'gpt', profile: profile('acme', 2) }], 5000);
      await store.merge([{ channel: 'gpt', profile: profile('acme', 3, 2000) }], 6000);
      const [got, ...rest] = await store.list('acme');
      expect(rest).toEqual([]);
      expect(got?.channel).toBe('gpt');
      expect(got?.updatedAtMs).toBe(6000);
      expect(got?.profile).toMatchObject({
        tenantId: 'acme',
        pairs: 5,
        pairsWithDrift: 5,
        firstAt: 1000,
        lastAt: 2002,
      });
      expect(got?.profile.kinds.type_changed).toBe(5);
      expect(got?.profile.tools.get_forecast?.fields['/days']?.typeChanges).toEqual({ 'number->string': 5 });
      expect(got?.profile.cohorts.canary.responses).toBe(2);
    });

    it('keeps tenants, channels and version pairs apart', async () => {
      const store = new SqlDriftProfileStore(db);
      const other = emptyDriftProfile('acme', 'gpt-2', 'gpt-3');
      await store.merge(
        [
          { channel: 'gpt', profile: profile('acme', 1) },
          { channel: 'claude', profile: profile('acme', 2) },
          { channel: 'gpt', profile: other },
          { channel: 'gpt', profile: profile('globex', 4) },
        ],
        1,
      );
      const acme = await store.list('acme');
      expect(acme.map((s) => [s.channel, s.profile.candidateVersionId, s.profile.pairs])).toEqual([
        ['claude', 'gpt-2', 2],
        ['gpt', 'gpt-2', 1],
        ['gpt', 'gpt-3', 0],
      ]);
      expect((await store.list('globex')).map((s) => s.profile.pairs)).toEqual([4]);
      expect(await store.list('nobody')).toEqual([]);
    });

    it('loses no counts when several writers merge into one row at once', async () => {
      const writers = Array.from({ length: 6 }, () => new SqlDriftProfileStore(db));
      await Promise.all(
        writers.map((w, i) => w.merge([{ channel: 'gpt', profile: profile('acme', i + 1) }], 1)),
      );
      const [got] = await new SqlDriftProfileStore(db).list('acme');
      expect(got?.profile.pairs).toBe(21);
      expect(got?.profile.cohorts.canary.responses).toBe(6);
    });
  });
}
