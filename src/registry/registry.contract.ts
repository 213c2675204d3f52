import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SwitchyardError } from '../shared/errors.js';
import { hashSecret } from '../shared/ids.js';
import type { SqlDatabase } from '../storage/sql-database.js';
import {
  registryOver,
  SYSTEM,
  seedModels,
  seedTenant,
  WEATHER_TOOL,
} from '../test-support/registry-fixtures.js';
import { buildSnapshot } from './routing-snapshot.js';

/**
 * The registry's contract, run against every storage adapter (SQLite and PostgreSQL): the same
 * behaviour, the same errors, nothing half-written.
 */
export function describeRegistryContract(
  name: string,
  open: () => Promise<{ db: SqlDatabase; cleanup: () => Promise<void> }>,
): void {
  describe(`registry contract: ${name}`, () => {
    let db: SqlDatabase;
    let cleanup: () => Promise<void>;
    let env: Awaited<ReturnType<typeof registryOver>>;

    beforeEach(async () => {
      ({ db, cleanup } = await open());
      env = await registryOver(db);
      await seedModels(env.registry);
    });
    afterEach(async () => {
      await cleanup();
    });

    /** Everything a failed write must leave untouched. */
    const fingerprint = async () => ({
      version: await env.store.version(),
      audit: (await env.store.listAudit({ limit: 500 })).length,
      dump: JSON.stringify(await env.store.dump()),
    });

    const codeOf = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        if (e instanceof SwitchyardError) return e.code;
        throw e;
      }
      return 'ok';
    };

    it('seeds the four rollout groups of the design, ranked', async () => {
      const groups = await env.store.list('rollout_group');
      expect(groups.map((g) => [g.id, g.rank])).toEqual([
        ['conservative', 3],
        ['early', 1],
        ['pioneers', 0],
        ['standard', 2],
      ]);
      const conservative = groups.find((g) => g.id === 'conservative');
      expect(conservative?.plan.stages[0]).toEqual({
        percent: 1,
        soakHours: 72,
        approvals: ['platform', 'tenant'],
      });
      expect(await env.registry.seedDefaultGroups(SYSTEM)).toBe(0);
    });

    it('creates a tenant with defaults, audits it and advances the registry version', async () => {
      const v0 = await env.store.version();
      const t = await env.registry.createTenant(
        { actor: 'alice', reason: 'onboarding' },
        { id: 'acme', name: 'Acme' },
      );
      expect(t).toMatchObject({
        id: 'acme',
        rolloutGroup: 'standard',
        frozen: false,
        failurePolicy: 'fallback',
        version: 1,
      });
      expect(await env.store.get('tenant', 'acme')).toEqual(t);
      expect(await env.store.version()).toBe(v0 + 1);
      const [entry] = await env.store.listAudit({ tenantId: 'acme', limit: 10 });
      expect(entry).toMatchObject({
        actor: 'alice',
        action: 'tenant.create',
        op: 'create',
        reason: 'onboarding',
        before: null,
      });
      expect(entry?.after).toEqual(t);
    });

    it('rejects a duplicate id and leaves everything as it was', async () => {
      await env.registry.createTenant(SYSTEM, { id: 'acme', name: 'Acme' });
      const before = await fingerprint();
      expect(await codeOf(env.registry.createTenant(SYSTEM, { id: 'acme', name: 'Other' }))).toBe(
        'already_exists',
      );
      expect(await fingerprint()).toEqual(before);
    });

    it('rejects references to records that do not exist, or to another channel', async () => {
      const before = await fingerprint();
      expect(
        await codeOf(env.registry.createTenant(SYSTEM, { id: 'x', name: 'X', rolloutGroup: 'nope' })),
      ).toBe('invalid_reference');
      await env.registry.createModel(SYSTEM, {
        id: 'claude-z-1',
        channel: 'claude-z',
        providerKind: 'anthropic',
        upstreamModel: 'z',
        endpoint: 'http://127.0.0.1:9',
      });
      await env.registry.createTenant(SYSTEM, { id: 'acme', name: 'Acme' });
      const mid = await fingerprint();
      expect(
        await codeOf(
          env.registry.bindChannel(SYSTEM, 'acme', { channel: 'gpt-x', stableVersionId: 'claude-z-1' }),
        ),
      ).toBe('invalid_reference');
      expect(
        await codeOf(
          env.registry.bindChannel(SYSTEM, 'acme', {
            channel: 'gpt-x',
            stableVersionId: 'gpt-x-2026-01',
            candidateVersionId: 'gpt-x-2026-01',
          }),
        ),
      ).toBe('invalid_reference');
      expect(
        await codeOf(
          env.registry.bindChannel(SYSTEM, 'ghost', { channel: 'gpt-x', stableVersionId: 'gpt-x-2026-01' }),
        ),
      ).toBe('not_found');
      expect(await fingerprint()).toEqual(mid);
      expect(before.version).toBeLessThan(mid.version);
    });

    it('refuses a stale version (If-Match) and writes nothing', async () => {
      await env.registry.createTenant(SYSTEM, { id: 'acme', name: 'Acme' });
      await env.registry.updateTenant(SYSTEM, 'acme', { name: 'Acme 2' }, 1);
      const before = await fingerprint();
      expect(await codeOf(env.registry.updateTenant(SYSTEM, 'acme', { name: 'Acme 3' }, 1))).toBe(
        'version_conflict',
      );
      expect(await fingerprint()).toEqual(before);
      expect((await env.store.get('tenant', 'acme'))?.name).toBe('Acme 2');
    });

    it('never loses an update between concurrent writers', async () => {
      await env.registry.createTenant(SYSTEM, { id: 'acme', name: 'Acme' });
      // Same base version: exactly one wins, the rest get a conflict.
      const sameBase = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          codeOf(env.registry.updateTenant(SYSTEM, 'acme', { name: `n${i}` }, 1)),
        ),
      );
      expect(sameBase.filter((c) => c === 'ok')).toHaveLength(1);
      expect(sameBase.filter((c) => c === 'version_conflict')).toHaveLength(7);
      // No base version: each applied change is audited and counted in the version; none vanish.
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          codeOf(
            env.registry.updateTenant(SYSTEM, 'acme', { contacts: [{ name: `c${i}`, email: `c${i}@x.io` }] }),
          ),
        ),
      );
      const applied = results.filter((c) => c === 'ok').length;
      expect(results.every((c) => c === 'ok' || c === 'version_conflict')).toBe(true);
      const t = await env.store.get('tenant', 'acme');
      expect(t?.version).toBe(2 + applied);
      const updates = await env.store.listAudit({ entityId: 'acme', limit: 100 });
      expect(updates.filter((u) => u.op === 'update')).toHaveLength(1 + applied);
    });

    it('compiles contracts at registration and rejects an invalid schema with its path', async () => {
      await seedTenant(env.registry);
      const ok = await env.registry.registerContract(SYSTEM, 'acme', {
        modelVersionId: 'gpt-x-2026-01',
        name: 'get_weather',
        definition: WEATHER_TOOL,
      });
      expect(ok.id).toBe('acme:gpt-x-2026-01:get_weather');
      const before = await fingerprint();
      const bad = env.registry.registerContract(SYSTEM, 'acme', {
        modelVersionId: 'gpt-x-2026-01',
        name: 'broken',
        definition: { kind: 'tool', parameters: { type: 'dict', properties: {} } },
      });
      await expect(bad).rejects.toMatchObject({
        code: 'invalid_input',
        details: [expect.objectContaining({ path: expect.stringContaining('/body/definition/parameters') })],
      });
      const badRegex = env.registry.registerContract(SYSTEM, 'acme', {
        modelVersionId: 'gpt-x-2026-01',
        name: 'fmt',
        definition: { kind: 'format_regex', pattern: '([a-z' },
      });
      await expect(badRegex).rejects.toMatchObject({ code: 'invalid_input' });
      expect(await fingerprint()).toEqual(before);
    });

    it('stores only hashes of API keys, rotates with a grace period and revokes', async () => {
      await seedTenant(env.registry);
      const { key, secret } = await env.registry.createApiKey(SYSTEM, 'acme', { label: 'prod' });
      expect(key.keyHash).toBe(hashSecret(secret));
      expect(JSON.stringify(await env.store.dump())).not.toContain(secret);
      expect(JSON.stringify(await env.store.listAudit({ limit: 500 }))).not.toContain(secret);

      const rotated = await env.registry.rotateApiKey(SYSTEM, 'acme', key.id, { graceSeconds: 3600 });
      expect(rotated.previous.expiresAt).toBe(new Date(env.clock.now() + 3600_000).toISOString());
      let snap = buildSnapshot(await env.store.dump(), env.clock.now());
      expect(snap.keysByHash.get(hashSecret(secret))?.expiresAtMs).toBe(env.clock.now() + 3600_000);
      expect(snap.keysByHash.get(hashSecret(rotated.secret))?.tenantId).toBe('acme');

      await env.registry.revokeApiKey(SYSTEM, 'acme', key.id);
      snap = buildSnapshot(await env.store.dump(), env.clock.now());
      expect(snap.keysByHash.has(hashSecret(secret))).toBe(false);
      // Another tenant cannot touch acme's key: it does not exist for them.
      await env.registry.createTenant(SYSTEM, { id: 'globex', name: 'Globex' });
      expect(await codeOf(env.registry.revokeApiKey(SYSTEM, 'globex', rotated.key.id))).toBe('not_found');
    });

    it('reverts an update, a create and a delete, each audited as a revert', async () => {
      await seedTenant(env.registry);
      const upd = await env.registry.updateTenant({ actor: 'bob' }, 'acme', {
        frozen: true,
        riskProfile: { criticality: 'high' },
      });
      const [updEntry] = await env.store.listAudit({ entityId: 'acme', limit: 1 });
      expect(updEntry?.action).toBe('tenant.freeze');
      const rev = await env.registry.revert({ actor: 'carol', reason: 'mistake' }, updEntry?.id ?? '');
      expect(rev).toMatchObject({
        action: 'revert',
        revertsId: updEntry?.id,
        actor: 'carol',
        reason: 'mistake',
        op: 'update',
      });
      const restored = await env.store.get('tenant', 'acme');
      expect(restored).toMatchObject({
        frozen: false,
        riskProfile: { criticality: 'medium' },
        version: upd.version + 1,
      });

      // Revert of the revert re-applies the change.
      await env.registry.revert(SYSTEM, rev.id);
      expect((await env.store.get('tenant', 'acme'))?.frozen).toBe(true);

      // Create -> revert deletes; delete -> revert re-creates.
      const c = await env.registry.registerContract(SYSTEM, 'acme', {
        modelVersionId: 'gpt-x-2026-01',
        name: 'get_weather',
        definition: WEATHER_TOOL,
      });
      const [createEntry] = await env.store.listAudit({ entityId: c.id, limit: 1 });
      await env.registry.revert(SYSTEM, createEntry?.id ?? '');
      expect(await env.store.get('contract', c.id)).toBeUndefined();
      const [deleteEntry] = await env.store.listAudit({ entityId: c.id, limit: 1 });
      expect(deleteEntry?.op).toBe('delete');
      await env.registry.revert(SYSTEM, deleteEntry?.id ?? '');
      expect((await env.store.get('contract', c.id))?.definition).toEqual(WEATHER_TOOL);
    });

    it('refuses a revert that would overwrite later changes, listing them, and writes nothing', async () => {
      await seedTenant(env.registry);
      await env.registry.updateTenant(SYSTEM, 'acme', { name: 'First' });
      const [first] = await env.store.listAudit({ entityId: 'acme', limit: 1 });
      await env.registry.updateTenant({ actor: 'dave' }, 'acme', { name: 'Second' });
      const [second] = await env.store.listAudit({ entityId: 'acme', limit: 1 });
      const before = await fingerprint();
      const err = await env.registry.revert(SYSTEM, first?.id ?? '').catch((e: SwitchyardError) => e);
      expect(err).toMatchObject({
        code: 'revert_conflict',
        details: [expect.objectContaining({ path: second?.id })],
      });
      expect(await codeOf(env.registry.revert(SYSTEM, 'chg_unknown'))).toBe('not_found');
      expect(await fingerprint()).toEqual(before);
    });

    it('refuses to delete a record that others reference', async () => {
      await seedTenant(env.registry);
      const err = await env.registry.deleteTenant(SYSTEM, 'acme').catch((e: SwitchyardError) => e);
      expect(err).toMatchObject({
        code: 'has_dependents',
        details: [expect.objectContaining({ path: 'tenant_channel:acme:gpt-x' })],
      });
      expect(await codeOf(env.registry.deleteModel(SYSTEM, 'gpt-x-2026-01'))).toBe('has_dependents');
      await env.registry.unbindChannel(SYSTEM, 'acme', 'gpt-x');
      await env.registry.deleteTenant(SYSTEM, 'acme');
      expect(await env.store.get('tenant', 'acme')).toBeUndefined();
    });

    it('dumps a consistent registry from which the routing snapshot is built', async () => {
      await seedTenant(env.registry);
      await env.registry.updateChannel(SYSTEM, 'acme', 'gpt-x', {
        candidateVersionId: 'gpt-x-2026-03',
        canaryPercent: 5,
        upgradeId: 'upg-1',
      });
      await env.registry.registerContract(SYSTEM, 'acme', {
        modelVersionId: 'gpt-x-2026-03',
        name: 'get_weather',
        definition: WEATHER_TOOL,
      });
      const dump = await env.store.dump();
      expect(dump.version).toBe(await env.store.version());
      const snap = buildSnapshot(dump, 0);
      const route = snap.tenants.get('acme')?.channels.get('gpt-x');
      expect(route?.stable.id).toBe('gpt-x-2026-01');
      expect(route?.candidate?.id).toBe('gpt-x-2026-03');
      expect(route?.binding.canaryPercent).toBe(5);
      expect([...(route?.candidateContracts.keys() ?? [])]).toEqual(['get_weather']);
      expect(route?.stableContracts.size).toBe(0);
      expect(Object.isFrozen(route)).toBe(true);
    });

    it('lists the audit log newest first with filters and pagination', async () => {
      await seedTenant(env.registry);
      await seedTenant(env.registry, 'globex');
      const acme = await env.store.listAudit({ tenantId: 'acme', limit: 100 });
      expect(acme.map((e) => e.entityId)).toEqual(['acme:gpt-x', 'acme']);
      const page1 = await env.store.listAudit({ limit: 2 });
      const page2 = await env.store.listAudit({ limit: 2, beforeSeq: page1[1]?.seq ?? 0 });
      expect(page1[0]?.seq).toBeGreaterThan(page1[1]?.seq ?? 0);
      expect(page2[0]?.seq).toBeLessThan(page1[1]?.seq ?? 0);
      expect(await env.store.listAudit({ entityKind: 'model_version', limit: 10 })).toHaveLength(2);
    });
  });
}
