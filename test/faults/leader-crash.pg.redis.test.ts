import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CANDIDATE,
  FaultScenario,
  faultInfrastructureAvailable,
  STABLE,
} from '../../src/test-support/faults/scenario.js';
import type { SwitchyardNode } from '../../src/test-support/faults/switchyard-node.js';
import { TrafficDriver } from '../../src/test-support/faults/traffic.js';

const available = await faultInfrastructureAvailable();

/** The step id an audit entry of the controller was written for (its reason ends with it). */
const stepOf = (reason: string) => reason.slice(reason.lastIndexOf(': ') + 2);

/**
 * Fault: the leading controller is killed (SIGKILL: no lease release, nothing flushed) in the
 * middle of a rollback. Twice, at the two points that matter:
 *   1. between steps: right after the freeze was applied and recorded (the rollout is draining);
 *   2. inside a step: the freeze's registry write is committed (its audit entry exists) but the
 *      leader has not recorded the step in the rollout's status (the test holds the rollout's row
 *      lock, so that write waits, and the leader dies waiting).
 *
 * What must hold, each time:
 *  - the other process takes the lease over (after it expires) and finishes the rollback:
 *    drain, hard cut, candidate cleared, incident, notification, phase `rolled_back`;
 *  - every step happens exactly once: each step id once in the rollout's applied steps and in its
 *    history, one audit entry per registry change (the freeze and the clearing), one incident, one
 *    notification in the outbox and one webhook delivery;
 *  - the tenant not rolled back is untouched (still in canary), and the surviving gateway served
 *    every request (zero failures, one stored event each), the rolled-back tenant on stable once done.
 */
describe.skipIf(!available)('fault: the leading controller dies mid-rollback (PostgreSQL + Redis)', () => {
  let s: FaultScenario;

  beforeAll(async () => {
    s = await FaultScenario.start({
      webhooks: true,
      tenants: [{ id: 'lead-a' }, { id: 'lead-b' }, { id: 'lead-c' }],
      plan: { stages: [{ percent: 50, soakHours: 1 }] },
      config: { controller: { tickMs: 200, leaseMs: 2000, drainTimeoutMs: 3000 } },
    });
    await s.startUpgradeToCanary();
  }, 90_000);

  afterAll(async () => {
    await s?.close();
  });

  /** A transaction of the test's own holding `lockSql`'s row locks until `release()`. */
  async function holdLock(lockSql: string, params: unknown[]): Promise<{ release: () => Promise<void> }> {
    const client = await s.db.pool.connect();
    await client.query('BEGIN');
    await client.query(lockSql, params);
    return {
      release: async () => {
        await client.query('COMMIT');
        client.release();
      },
    };
  }

  /**
   * Rolls `tenantId` back through `survivor` and kills the leader at the round's point, then checks
   * that the survivor finishes the rollback with every step exactly once.
   *   - `between-steps`: once the freeze is applied and recorded (the rollout drains);
   *   - `inside-step`: the freeze's registry write committed, its record in the rollout's status not:
   *     the test holds the rollout's row lock, so the leader's status write waits while it dies.
   */
  async function rollBackAndKillLeader(
    tenantId: string,
    round: string,
    mode: 'between-steps' | 'inside-step',
  ): Promise<void> {
    const leader = await s.leader();
    expect(leader, 'a controller leads').toBeDefined();
    const survivor = s.liveNodes().find((n) => n !== leader) as SwitchyardNode;
    const before = await s.lease();
    // Traffic goes to the process that survives: the test is about the controller, not the
    // requests a dying gateway had in flight.
    const tenant = (id: string) => s.tenants.filter((t) => t.id === id);
    const driver = (prefix: string, id: string) =>
      new TrafficDriver({
        gateways: () => [survivor.url],
        tenants: tenant(id),
        channel: 'assistant',
        sessionsPerSecond: 6,
        turns: 4,
        thinkMs: 150,
        streamShare: 0.3,
        sessionPrefix: prefix,
      }).start();
    const rolledBack = driver(`${round}-rb`, tenantId);
    const untouched = driver(`${round}-un`, 'lead-c');
    await sleep(1500);

    const rollback = () =>
      s.admin(
        'POST',
        `/upgrades/${s.upgradeId}/rollback`,
        { tenantId, reason: `fault test: roll back (${round})` },
        survivor,
      );
    const freezeAudited = async () =>
      (await s.controllerAudit()).some(
        (e) =>
          e.entity_id === `${tenantId}:assistant` && e.reason.endsWith('rolling_back:0:freeze:set_traffic'),
      );
    let rowLock: { release: () => Promise<void> } | null = null;
    if (mode === 'between-steps') {
      await rollback();
      await s.waitFor(
        async () => (await s.rolloutOf(tenantId)).rollbackStep === 'drain',
        10_000,
        'the leader froze the tenant and recorded it',
        5,
      );
    } else {
      // Hold the controllers at their lease while the rollback is asked for, then let the leader
      // go with the rollout's row locked: its freeze commits, its status write waits.
      const leaseLock = await holdLock('SELECT 1 FROM controller_leases WHERE name = $1 FOR UPDATE', [
        'rollout-controller',
      ]);
      try {
        await rollback();
        const { id } = await s.rolloutOf(tenantId);
        rowLock = await holdLock('SELECT 1 FROM tenant_rollouts WHERE id = $1 FOR UPDATE', [id]);
      } finally {
        await leaseLock.release();
      }
      await s.waitFor(freezeAudited, 10_000, 'the leader committed the freeze', 5);
      await sleep(200); // it is now waiting on its status write
    }
    await (leader as SwitchyardNode).kill();
    const killedAt = Date.now();
    // Where the dead leader left the rollout: `freeze` when it died before recording the step.
    const stepAtKill = (await s.rolloutOf(tenantId)).rollbackStep;
    if (mode === 'inside-step') expect(stepAtKill).toBe('freeze');
    await rowLock?.release();

    await s.waitFor(
      async () => (await s.rolloutOf(tenantId)).phase === 'rolled_back',
      20_000,
      `the rollback of ${tenantId} is finished`,
    );
    const finishedInMs = Date.now() - killedAt;
    rolledBack.phase('after-rollback');
    const r = await s.rolloutOf(tenantId);
    await s.waitFor(
      async () => s.webhookDeliveries.some((d) => d.event === 'rolled_back' && d.body.tenantId === tenantId),
      15_000,
      `the rolled_back webhook of ${tenantId} is delivered`,
    );
    await sleep(1500);
    await Promise.all([rolledBack.stop(), untouched.stop()]);
    const sent = rolledBack.counts().sent + untouched.counts().sent;
    const stored = async () => (await s.eventCount(`${round}-rb`)) + (await s.eventCount(`${round}-un`));
    // The survivor keeps running; its telemetry is written within a flush interval.
    await s
      .waitFor(async () => (await stored()) >= sent, 5000, 'the telemetry of the round is stored')
      .catch(() => {});

    const after = await s.lease();
    const c = await s.rolloutOf('lead-c');
    const auditSteps = (await s.controllerAudit())
      .filter((e) => e.entity_id === `${tenantId}:assistant`)
      .map((e) => stepOf(e.reason));
    const incidents = (await s.incidents()).filter((i) => i.tenant_id === tenantId);
    const outbox = (await s.notifications()).filter(
      (n) => n.event === 'rolled_back' && n.tenantId === tenantId,
    );
    const delivered = s.webhookDeliveries.filter(
      (d) => d.event === 'rolled_back' && d.body.tenantId === tenantId,
    );
    const effectEvents = (await s.rolloutEvents())
      .filter((e) => e.rollout_id === r.id && e.action.startsWith('effect:'))
      .map((e) => (e.detail ?? '').split(':').slice(0, 4).join(':'));
    const counts = {
      rb: rolledBack.counts(),
      un: untouched.counts(),
      after: rolledBack.counts('after-rollback'),
    };
    const events = await stored();
    console.info(
      `[faults] leader crash (${round}): killed pid ${leader?.pid} (rollout left at step ${stepAtKill}), ` +
        `rollback of ${tenantId} finished by pid ${survivor.pid} ` +
        `${finishedInMs} ms later; lease fencing ${before?.fencing} -> ${after?.fencing}; applied steps ` +
        `${JSON.stringify(r.appliedSteps)}; controller audit steps ${JSON.stringify(auditSteps)}; ` +
        `incidents ${incidents.length}; outbox rows ${outbox.length}; webhook deliveries ${new Set(delivered.map((d) => d.delivery)).size}; ` +
        `traffic ${tenantId} ${JSON.stringify(counts.rb.byVersion)} (after: ${JSON.stringify(counts.after.byVersion)}, resets ${counts.rb.resets}), ` +
        `lead-c ${JSON.stringify(counts.un.byVersion)}; failed ${counts.rb.failed + counts.un.failed}; sent ${sent}, events ${events}`,
    );

    // The survivor took the lease over and finished the rollback.
    expect(after?.holder.split(':')[1]).toBe(String(survivor.pid));
    expect(Number(after?.fencing)).toBeGreaterThan(Number(before?.fencing));
    expect(r.phase).toBe('rolled_back');
    // Exactly once: every step id once, one audit entry per registry change, one incident, one notification.
    expect(new Set(r.appliedSteps).size).toBe(r.appliedSteps.length);
    expect([...r.appliedSteps].sort()).toEqual(
      [
        'canary:0:-:set_traffic',
        'rolling_back:0:freeze:set_traffic',
        'rolling_back:0:cut:hard_cut',
        'rolling_back:0:cut:clear_candidate',
        'rolling_back:0:cut:incident',
        'rolled_back:0:done:notify',
      ].sort(),
    );
    expect(auditSteps).toEqual([
      'canary:0:-:set_traffic',
      'rolling_back:0:freeze:set_traffic',
      'rolling_back:0:cut:clear_candidate',
    ]);
    expect(incidents).toHaveLength(1);
    expect(outbox).toHaveLength(1);
    expect(new Set(delivered.map((d) => d.delivery))).toEqual(new Set([outbox[0]?.notificationId]));
    // The rollout's history holds each applied step once, and nothing else.
    expect([...effectEvents].sort()).toEqual([...r.appliedSteps].sort());
    // The other tenant's rollout is untouched.
    expect(c.phase).toBe('canary');
    expect(c.appliedSteps).toEqual(['canary:0:-:set_traffic']);
    // The surviving gateway served everything; after the rollback the tenant is on stable only.
    expect([...rolledBack.failures, ...untouched.failures]).toEqual([]);
    expect(counts.rb.failed + counts.un.failed).toBe(0);
    expect(counts.after.sent).toBeGreaterThan(0);
    expect(counts.after.byVersion).toEqual({ [STABLE]: counts.after.sent });
    expect(counts.un.byVersion[CANDIDATE] ?? 0).toBeGreaterThan(0);
    expect(events).toBe(sent);
  }

  it('between two steps (while draining): the other controller finishes the rollback exactly once', async () => {
    await rollBackAndKillLeader('lead-a', 'drain', 'between-steps');
  }, 90_000);

  it('inside a step (freeze committed, not yet recorded): the other controller finishes it exactly once', async () => {
    // A fresh process replaces the one killed in the previous round, so two run again.
    await s.addNode();
    await rollBackAndKillLeader('lead-b', 'freeze', 'inside-step');
  }, 90_000);
});
