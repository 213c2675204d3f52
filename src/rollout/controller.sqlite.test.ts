import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../admin/principal.js';
import type { RegistryService } from '../registry/registry-service.js';
import type { SqlRegistryStore } from '../registry/sql-registry-store.js';
import type { ManualClock } from '../shared/clock.js';
import type { SqlDatabase } from '../storage/sql-database.js';
import {
  memorySqlite,
  registryOver,
  SYSTEM,
  seedModels,
  seedTenant,
} from '../test-support/registry-fixtures.js';
import { renderIncidentHtml, renderIncidentMarkdown } from './incident.js';
import type { RolloutStore } from './rollout-store.js';
import type { TenantRollout } from './rollout-types.js';
import { SqlRolloutStore } from './sql-rollout-store.js';
import {
  controllerOver,
  type Harness,
  HOUR,
  MINUTE,
  regressed,
  seedPlans,
} from './test-support/controller-harness.js';
import { UpgradeService } from './upgrade-service.js';

let db: SqlDatabase;
let store: SqlRegistryStore;
let registry: RegistryService;
let clock: ManualClock;
let rollouts: SqlRolloutStore;
let upgrades: UpgradeService;
let h: Harness;

const OPERATOR = 'token:op/olivia';

beforeEach(async () => {
  db = await memorySqlite();
  ({ store, registry, clock } = await registryOver(db));
  await seedModels(registry);
  await seedPlans(registry);
  rollouts = new SqlRolloutStore(db);
  upgrades = new UpgradeService({ rollouts, registry: store, clock });
  h = controllerOver({ db, rollouts, registry, store, clock });
});
afterEach(async () => db.close());

async function tenant(id: string, group: string, extra: Parameters<RegistryService['updateTenant']>[2] = {}) {
  await seedTenant(registry, id);
  await registry.updateTenant(SYSTEM, id, { rolloutGroup: group, ...extra });
}

async function startUpgrade() {
  const s = await upgrades.start(
    { channel: 'gpt-x', fromVersionId: 'gpt-x-2026-01', toVersionId: 'gpt-x-2026-03' },
    OPERATOR,
  );
  return s.upgrade.id;
}

async function rolloutOf(upgradeId: string, tenantId: string): Promise<TenantRollout> {
  const [r] = await rollouts.listRollouts({ upgradeId, tenantId });
  if (!r) throw new Error(`no rollout for ${tenantId}`);
  return r;
}

/** Passes on an advancing clock until `done` holds; returns the number of passes. */
async function runUntil(done: () => Promise<boolean>, stepMs = MINUTE, max = 2000, c = h): Promise<number> {
  for (let i = 0; i < max; i++) {
    if (await done()) return i;
    clock.advance(stepMs);
    await c.controller.runOnce();
  }
  throw new Error('condition not reached');
}

const phaseIs =
  (u: string, t: string, ...phases: string[]) =>
  async () =>
    phases.includes((await rolloutOf(u, t)).phase);

async function channelUpdates(tenantId: string) {
  const audit = await store.listAudit({
    entityKind: 'tenant_channel',
    entityId: `${tenantId}:gpt-x`,
    limit: 100,
  });
  return audit
    .filter((a) => a.action === 'tenant_channel.update')
    .reverse()
    .map((a) => {
      const after = a.after as {
        canaryPercent: number;
        shadowPercent: number;
        stableVersionId: string;
        candidateVersionId: string | null;
      };
      return `${a.actor} ${after.stableVersionId}/${after.candidateVersionId ?? '-'} c${after.canaryPercent} s${after.shadowPercent}`;
    });
}

describe('rollout controller over SQLite', () => {
  it('takes a clean upgrade through gating, shadow and its stages to complete, and warms the old version', async () => {
    await tenant('acme', 'fast');
    await tenant('frosty', 'fast', { frozen: true });
    await tenant('lawful', 'fast');
    await registry.updateChannel(SYSTEM, 'lawful', 'gpt-x', { pinned: true });
    const id = await startUpgrade();
    const status = await upgrades.status(id, null);
    expect(status.skipped).toEqual([
      { tenantId: 'frosty', reason: 'tenant is frozen' },
      { tenantId: 'lawful', reason: 'pinned by contract on this channel' },
    ]);

    await runUntil(async () => h.gate.starts.length > 0);
    expect((await rolloutOf(id, 'acme')).phase).toBe('gating');
    // Waiting for the verdict: passes do not start the runs again.
    for (let i = 0; i < 5; i++) {
      clock.advance(MINUTE);
      await h.controller.runOnce();
    }
    expect(h.gate.starts).toHaveLength(1);
    expect((await rolloutOf(id, 'acme')).control?.betsRuns).toEqual(['run_acme_1']);
    h.gate.verdicts.set('acme', { outcome: 'pass', reason: null });

    await runUntil(async () => (await upgrades.status(id, null)).upgrade.state === 'complete');
    expect(h.errors).toEqual([]);
    expect(await channelUpdates('acme')).toEqual([
      'controller gpt-x-2026-01/gpt-x-2026-03 c0 s100',
      'controller gpt-x-2026-01/gpt-x-2026-03 c10 s0',
      'controller gpt-x-2026-01/gpt-x-2026-03 c100 s0',
      'controller gpt-x-2026-03/- c0 s0',
    ]);
    const transitions = (await rollouts.listEvents({ upgradeId: id, tenantId: 'acme', limit: 100 }))
      .filter((e) => e.action === 'transition')
      .map((e) => e.detail?.split(':')[0]);
    expect(transitions).toEqual([
      'pending -> gating',
      'gating -> shadow',
      'shadow -> canary(1)',
      'canary(1) -> canary(2)',
      'canary(2) -> complete',
    ]);
    const done = await rolloutOf(id, 'acme');
    expect(done.phase).toBe('complete');
    // The minimum duration holds the last stage: complete no earlier than 2 h after the start.
    expect(done.phaseSince - done.startedAt).toBeGreaterThanOrEqual(2 * HOUR);
    // frosty and lawful still run 2026-01, so it is not warmed.
    expect((await store.get('model_version', 'gpt-x-2026-01'))?.lifecycle).toBe('active');
    expect((await store.get('model_version', 'gpt-x-2026-03'))?.lifecycle).toBe('active');
    const sent = await h.outbox.list({ limit: 50 });
    expect(sent.map((d) => d.event).sort()).toEqual(['complete', 'upgrade_complete']);
  });

  it('retires the replaced version after its warm period once no tenant uses it', async () => {
    await tenant('acme', 'pioneers');
    const id = await startUpgrade();
    h.gate.verdicts.set('acme', { outcome: 'pass', reason: null });
    h = controllerOver({ db, rollouts, registry, store, clock, gate: h.gate }, 'a', { warmDays: 2 });
    await runUntil(async () => (await upgrades.status(id, null)).upgrade.state === 'complete');
    const warm = await store.get('model_version', 'gpt-x-2026-01');
    expect(warm).toMatchObject({
      lifecycle: 'warm',
      warmUntil: new Date(clock.now() + 2 * 24 * HOUR).toISOString(),
    });
    clock.advance(2 * 24 * HOUR - MINUTE);
    await h.controller.runOnce();
    expect((await store.get('model_version', 'gpt-x-2026-01'))?.lifecycle).toBe('warm');
    clock.advance(2 * MINUTE);
    await h.controller.runOnce();
    expect((await store.get('model_version', 'gpt-x-2026-01'))?.lifecycle).toBe('retired');
  });

  it('blocks a tenant whose BETS verdict fails, with the reason, and never moves it again', async () => {
    await tenant('acme', 'fast');
    const id = await startUpgrade();
    h.gate.verdicts.set('acme', { outcome: 'fail', reason: 'toolCall pass rate 0.82 < 0.90' });
    await runUntil(phaseIs(id, 'acme', 'blocked'));
    const r = await rolloutOf(id, 'acme');
    expect(r.reason).toBe('BETS verdict: fail (toolCall pass rate 0.82 < 0.90)');
    for (let i = 0; i < 10; i++) {
      clock.advance(HOUR);
      await h.controller.runOnce();
    }
    expect((await rolloutOf(id, 'acme')).version).toBe(r.version);
    expect(await channelUpdates('acme')).toEqual([]);
    expect((await h.outbox.list({ limit: 10 })).map((d) => d.notification.detail)).toContain(r.reason);
  });

  it('rolls back a canary regression: freeze, drain until the timeout, hard cut, incident report', async () => {
    await tenant('acme', 'fast');
    const id = await startUpgrade();
    h.gate.verdicts.set('acme', { outcome: 'pass', reason: null });
    await runUntil(async () => {
      const r = await rolloutOf(id, 'acme');
      return r.phase === 'canary' && r.stage === 1;
    });
    h.signals.profiles.set('acme', regressed);
    h.samples.record('acme', 'gpt-x-2026-03', {
      atMs: clock.now(),
      sessionId: 's-1',
      requestId: 'req-1',
      tool: 'get_weather',
      arguments: { city: 42 },
      problems: ['/city: must be string'],
    });
    h.pins.counts.set('acme', 4);
    await runUntil(phaseIs(id, 'acme', 'rolling_back'), 30_000);
    // Freeze: new sessions go to stable at once; the candidate is kept for the sessions on it.
    await runUntil(async () => (await rolloutOf(id, 'acme')).rollbackStep === 'drain', 10_000);
    expect(await store.get('tenant_channel', 'acme:gpt-x')).toMatchObject({
      canaryPercent: 0,
      candidateVersionId: 'gpt-x-2026-03',
    });
    const drainStart = clock.now();
    // Sessions are still on the candidate: the drain waits until its 90 s timeout, then cuts.
    await runUntil(phaseIs(id, 'acme', 'rolled_back'), 10_000);
    expect(h.pins.cuts).toHaveLength(1);
    expect(h.pins.cuts[0]?.versionId).toBe('gpt-x-2026-03');
    expect((h.pins.cuts[0]?.atMs ?? 0) - drainStart).toBeGreaterThanOrEqual(90_000);
    expect(await store.get('tenant_channel', 'acme:gpt-x')).toMatchObject({
      stableVersionId: 'gpt-x-2026-01',
      candidateVersionId: null,
      canaryPercent: 0,
      upgradeId: null,
    });
    const [summary] = await h.incidents.list({ tenantId: 'acme', limit: 10 });
    const report = await h.incidents.get(summary?.id ?? '');
    expect(report).toMatchObject({
      kind: 'rollback',
      tenantId: 'acme',
      candidateVersionId: 'gpt-x-2026-03',
      stoppedAt: { phase: 'canary', stage: 2, canaryPercent: 100 },
      trigger: { verdict: 'rollback', signal: 'tool_call_failure' },
      cohort: { tenants: ['acme'], sessionsCut: 4 },
    });
    expect(report?.trigger?.evidence.statistic).toBeGreaterThan(
      report?.trigger?.evidence.threshold ?? Infinity,
    );
    expect(report?.signals.some((s) => s.status === 'regressed')).toBe(true);
    expect(report?.cohort.toolCallsInvalid).toBeGreaterThan(0);
    expect(report?.cohort.invalidKinds.type).toBe(report?.cohort.toolCallsInvalid);
    const tool = report?.metricDiff.find((m) => m.signal === 'tool_call_failure');
    expect(tool?.difference).toBeCloseTo(0.25 - 0.005, 5);
    expect(report?.samples.map((s) => s.requestId)).toEqual(['req-1']);
    if (!report) throw new Error('no report');
    expect(renderIncidentMarkdown(report)).toContain('| tool_call_failure | 25.00%');
    expect(renderIncidentHtml(report)).toContain('&quot;city&quot;: 42');
    // The notifications name the incident; a rolled-back tenant is never retried by the loop.
    const notes = (await h.outbox.list({ limit: 20 })).map((d) => d.notification);
    expect(notes.find((n) => n.event === 'rolled_back')?.incidentId).toBe(summary?.id);
    const before = await rolloutOf(id, 'acme');
    h.signals.profiles.delete('acme');
    clock.advance(10 * HOUR);
    await h.controller.runOnce();
    expect((await rolloutOf(id, 'acme')).version).toBe(before.version);
  });

  it('waits for a platform and a tenant approval from two different people', async () => {
    await tenant('bank', 'careful');
    const id = await startUpgrade();
    h.gate.verdicts.set('bank', { outcome: 'pass', reason: null });
    await runUntil(phaseIs(id, 'bank', 'awaiting_approval'));
    const pat: Principal = { actor: 'token:t1/pat', role: 'approver', tenantId: null };
    const patAsContact: Principal = { actor: 'token:t2/pat', role: 'tenant_contact', tenantId: 'bank' };
    const tina: Principal = { actor: 'token:t3/tina', role: 'tenant_contact', tenantId: 'bank' };
    await upgrades.approve(id, 'bank', 1, pat);
    await upgrades.approve(id, 'bank', 1, patAsContact);
    for (let i = 0; i < 5; i++) {
      clock.advance(HOUR);
      await h.controller.runOnce();
    }
    expect((await rolloutOf(id, 'bank')).phase).toBe('awaiting_approval');
    expect(await channelUpdates('bank')).toEqual([]);
    await upgrades.approve(id, 'bank', 1, tina);
    await runUntil(phaseIs(id, 'bank', 'canary'));
    expect(await channelUpdates('bank')).toEqual(['controller gpt-x-2026-01/gpt-x-2026-03 c5 s0']);
    // The next stage waits for its own approvals after the soak.
    await runUntil(async () => {
      const r = await rolloutOf(id, 'bank');
      return r.phase === 'awaiting_approval' && r.stage === 1;
    });
    await upgrades.approve(id, 'bank', 2, pat);
    await upgrades.approve(id, 'bank', 2, tina);
    await runUntil(phaseIs(id, 'bank', 'complete'));
    expect((await store.get('tenant_channel', 'bank:gpt-x'))?.stableVersionId).toBe('gpt-x-2026-03');
  });

  it('holds a paused upgrade or tenant where it is, resumes it, and rolls back everyone on abort', async () => {
    await tenant('acme', 'fast');
    await tenant('globex', 'fast');
    const id = await startUpgrade();
    h.gate.verdicts.set('acme', { outcome: 'pass', reason: null });
    h.gate.verdicts.set('globex', { outcome: 'pass', reason: null });
    await runUntil(phaseIs(id, 'acme', 'shadow'));
    await upgrades.pause(id, OPERATOR, { reason: 'incident elsewhere' });
    const held = await rolloutOf(id, 'acme');
    for (let i = 0; i < 5; i++) {
      clock.advance(HOUR);
      await h.controller.runOnce();
    }
    expect((await rolloutOf(id, 'acme')).phase).toBe(held.phase);
    await upgrades.resume(id, OPERATOR, {});
    await runUntil(phaseIs(id, 'acme', 'canary'));
    await upgrades.pause(id, OPERATOR, { tenantId: 'globex', reason: 'customer demo today' });
    expect(await rolloutOf(id, 'globex')).toMatchObject({ phase: 'paused', resumePhase: 'canary' });
    clock.advance(3 * HOUR);
    await h.controller.runOnce();
    expect((await rolloutOf(id, 'globex')).phase).toBe('paused');
    await upgrades.resume(id, OPERATOR, { tenantId: 'globex' });
    expect((await rolloutOf(id, 'globex')).phase).toBe('canary');
    await upgrades.abort(id, OPERATOR, 'provider recall');
    await runUntil(
      async () =>
        (await rolloutOf(id, 'acme')).phase === 'rolled_back' &&
        (await rolloutOf(id, 'globex')).phase === 'rolled_back',
      30_000,
    );
    for (const t of ['acme', 'globex'])
      expect(await store.get('tenant_channel', `${t}:gpt-x`)).toMatchObject({
        stableVersionId: 'gpt-x-2026-01',
        candidateVersionId: null,
      });
    expect((await upgrades.status(id, null)).upgrade.state).toBe('aborted');
    expect((await rolloutOf(id, 'acme')).reason).toBe('upgrade aborted');
    await expect(upgrades.resume(id, OPERATOR, {})).rejects.toMatchObject({ code: 'invalid_state' });
  });

  it('lets a second controller resume a leader that died between effect and status write, applying no step twice', async () => {
    await tenant('acme', 'fast');
    const id = await startUpgrade();
    h.gate.verdicts.set('acme', { outcome: 'pass', reason: null });
    await runUntil(phaseIs(id, 'acme', 'gating'));
    // Leader A applies the gating -> shadow effects, then dies before its status write.
    let dead = false;
    const dying: RolloutStore = Object.create(rollouts, {
      writeStatus: {
        value: async (...args: Parameters<RolloutStore['writeStatus']>) => {
          if (dead) throw new Error('killed before the status write');
          return rollouts.writeStatus(...args);
        },
      },
    });
    const a = controllerOver(
      { db, rollouts: dying, registry, store, clock, gate: h.gate, signals: h.signals },
      'a',
    );
    const b = controllerOver({ db, rollouts, registry, store, clock, gate: h.gate, signals: h.signals }, 'b');
    clock.advance(31_000); // h's lease (holder 'a' too) is irrelevant: a is the same holder name
    dead = true;
    const report = await a.controller.runOnce();
    expect(report).toMatchObject({ leader: true, errors: 1 });
    expect(await channelUpdates('acme')).toEqual(['controller gpt-x-2026-01/gpt-x-2026-03 c0 s100']);
    expect((await rolloutOf(id, 'acme')).phase).toBe('gating');
    // B cannot act while A's lease runs; it takes over once it expired.
    expect((await b.controller.runOnce()).leader).toBe(false);
    clock.advance(31_000);
    const taken = await b.controller.runOnce();
    expect(taken).toMatchObject({ leader: true, errors: 0 });
    expect((await rolloutOf(id, 'acme')).phase).toBe('shadow');
    expect(await channelUpdates('acme')).toEqual(['controller gpt-x-2026-01/gpt-x-2026-03 c0 s100']);
    const effects = (await rollouts.listEvents({ upgradeId: id, tenantId: 'acme', limit: 100 })).filter(
      (e) => e.action === 'effect:set_traffic',
    );
    expect(effects.map((e) => e.detail)).toEqual(['shadow:0:-:set_traffic: already set']);
    await runUntil(phaseIs(id, 'acme', 'complete'), MINUTE, 2000, b);
    const updates = await channelUpdates('acme');
    expect(updates).toEqual([...new Set(updates)]);
    expect(updates).toHaveLength(4);
    expect(b.errors).toEqual([]);
    // The notification of the step A applied and B re-applied is in the outbox once.
    const ids = (await b.outbox.list({ limit: 100 })).map((d) => d.id);
    expect(ids).toEqual([...new Set(ids)]);
  });
});
