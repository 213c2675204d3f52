import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FaultScenario,
  faultInfrastructureAvailable,
  STABLE,
} from '../../src/test-support/faults/scenario.js';
import { TrafficDriver } from '../../src/test-support/faults/traffic.js';

const available = await faultInfrastructureAvailable();

/** Clock speed of the processes: one real second is a minute of rollups, soak and guard time. */
const SCALE = 60;
const MINUTE = 60_000;
const TENANTS = ['pg-a', 'pg-b'];

/**
 * Fault: PostgreSQL becomes unreachable for 12 s (12 minutes of the processes' accelerated
 * clock) while traffic flows and the upgrade soaks its first canary stage, whose soak time ends
 * during the outage; then it comes back.
 *
 * PostgreSQL is taken away through a fault proxy (connections refused, open ones cut) between the
 * two processes and the server: the server itself is shared by the suites running in parallel.
 *
 * What must hold:
 *  - routing goes on from the snapshots: zero failed requests before, during and after, with
 *    the canary split intact, while both processes report `storage` as down;
 *  - the controller pauses: no rollout status is written while the database is away, and it does
 *    not promote on missing data: the pass that moves the rollout to its next stage (after the
 *    outage) rests on a `continue` whose evidence counts every request of every minute it folded,
 *    the minutes of the outage included, exactly as the rollups finally stored them;
 *  - it resumes by itself: the next stage and then completion (promotion) follow;
 *  - nothing is lost: one telemetry event per request sent (per session and by request id), the
 *    rollups count every request, and each registry change of the controller has exactly one audit
 *    entry (canary stage 1, stage 2, promotion per tenant).
 */
describe.skipIf(!available)('fault: PostgreSQL unreachable for a while (PostgreSQL + Redis)', () => {
  let s: FaultScenario;

  beforeAll(async () => {
    s = await FaultScenario.start({
      timeScale: SCALE,
      pgProxy: true,
      tenants: TENANTS.map((id) => ({ id })),
      // Stage 1 soaks 15 minutes (15 s): its soak ends while the database is away.
      plan: {
        stages: [
          { percent: 50, soakHours: 0.25 },
          { percent: 100, soakHours: 0.1 },
        ],
      },
      config: {
        controller: { tickMs: 250 },
        // The breaker's window and open time are on the process clock: keep them minutes long.
        gateway: { breaker: { windowMs: 10 * MINUTE, openMs: 10 * MINUTE } },
      },
    });
    await s.captureRolloutHistory();
    await s.startUpgradeToCanary();
  }, 90_000);

  afterAll(async () => {
    await s?.close();
  });

  it('routes from snapshots, holds the controller without promoting on missing data, resumes, and loses nothing', async () => {
    const proxy = s.pgProxy as NonNullable<typeof s.pgProxy>;
    const traffic = new TrafficDriver({
      gateways: () => s.gatewayUrls(),
      tenants: s.tenants,
      channel: 'assistant',
      sessionsPerSecond: 12,
      turns: 4,
      thinkMs: 100,
      streamShare: 0.3,
      sessionPrefix: 'pg',
    }).start();
    traffic.phase('before');
    await sleep(6000);

    const leaderBefore = (await s.leader())?.name;
    proxy.down();
    const downAt = Date.now();
    traffic.phase('outage');
    await s.waitFor(
      async () =>
        (await Promise.all(s.nodes.map((n) => s.readyz(n)))).every(
          (r) => r.status === 'degraded' && r.down.includes('storage'),
        ),
      8000,
      'every process reports storage as down',
    );
    await sleep(Math.max(0, 12_000 - (Date.now() - downAt)));

    proxy.up();
    const upAt = Date.now();
    traffic.phase('after');
    await s.waitFor(
      async () => (await Promise.all(s.nodes.map((n) => s.readyz(n)))).every((r) => r.status === 'ok'),
      15_000,
      'every process is healthy again',
    );
    // The controller resumes: stage 2 (100%), then completion.
    await s.waitForPhase('complete', undefined, 40_000);
    const leaderAfter = (await s.leader())?.name;
    await sleep(1000);
    await traffic.stop();
    await s.stopNodes();

    const total = traffic.counts();
    const outage = traffic.counts('outage');
    const stored = await s.storedRequestIds('pg');
    const missingIds = [...traffic.requestIds].filter((id) => !stored.has(id));
    const sessions = await s.eventsBySession('pg');
    const sessionMismatches = [...traffic.perSession].filter(([id, n]) => sessions.get(id) !== n);
    const rollups = await s.rollupRequests("tenant_id LIKE 'pg-%'");
    const audit = await s.controllerAudit();

    const report: string[] = [];
    for (const tenant of TENANTS) {
      const history = await s.rolloutHistory(tenant);
      // No status write while the database was away (nothing could be written, nothing was queued).
      const during = history.filter((h) => h.capturedAtMs >= downAt && h.capturedAtMs < upAt);
      expect(during, `${tenant}: status writes during the outage`).toEqual([]);
      // The pass that left stage 1: its decision and the evidence it rested on.
      const advanced = history.find((h) => h.stage === 1 || h.phase === 'complete');
      expect(advanced, `${tenant} left stage 1`).toBeDefined();
      const control = advanced?.control;
      expect(control?.window).toBe('canary:0');
      expect(control?.decision?.verdict).toBe('continue');
      expect(advanced?.capturedAtMs).toBeGreaterThan(upAt);
      const ledger = control?.guard.ledger;
      const fromMs = Math.ceil(Number(ledger?.originMs) / MINUTE) * MINUTE;
      const toMs = Number(ledger?.foldedThroughMs);
      // It had folded minutes of the outage, not just those before it...
      expect(toMs).toBeGreaterThan(s.clock.at(downAt) + MINUTE);
      // ... and every request of every minute it folded: no data was missing when it decided.
      const inRollups = async (where: string) =>
        s.rollupRequests(
          `tenant_id = '${tenant}' AND minute_ms >= ${fromMs} AND minute_ms < ${toMs} AND ${where}`,
        );
      const canary = await inRollups("cohort = 'canary'");
      const controlRequests = await inRollups(`cohort = 'stable' AND version_id = '${STABLE}'`);
      expect(ledger?.rates.request_error.canary.trials).toBe(canary);
      expect(ledger?.rates.request_error.control.trials).toBe(controlRequests);
      // Exactly one audit entry per registry change of the controller.
      const steps = audit
        .filter((e) => e.entity_id === `${tenant}:assistant`)
        .map((e) => e.reason.slice(e.reason.lastIndexOf(': ') + 2));
      expect(steps).toEqual(['canary:0:-:set_traffic', 'canary:1:-:set_traffic', 'canary:1:-:promote']);
      report.push(
        `${tenant}: left stage 1 ${((Number(advanced?.capturedAtMs) - upAt) / 1000).toFixed(1)} s after the outage on ` +
          `${control?.decision?.verdict} with ${canary} canary / ${controlRequests} control requests folded through ` +
          `+${((toMs - s.clock.at(downAt)) / MINUTE).toFixed(1)} min of the outage`,
      );
    }
    console.info(
      `[faults] postgres: sent ${total.sent}, succeeded ${total.succeeded}, failed ${total.failed} ` +
        `(outage: sent ${outage.sent}, succeeded ${outage.succeeded}, cohorts ${JSON.stringify(outage.byCohort)}); ` +
        `events stored ${stored.size}, missing ${missingIds.length}; rollup requests ${rollups}; ` +
        `leader ${leaderBefore} before, ${leaderAfter} after; ${report.join('; ')}`,
    );

    expect(traffic.failures, s.logs()).toEqual([]);
    expect(total.failed).toBe(0);
    expect(outage.sent).toBeGreaterThan(100);
    expect(outage.succeeded).toBe(outage.sent);
    expect(outage.byCohort.canary ?? 0).toBeGreaterThan(0);
    expect(outage.byCohort.stable ?? 0).toBeGreaterThan(0);
    // Nothing lost.
    expect(missingIds).toEqual([]);
    expect(stored.size).toBe(total.sent);
    expect(sessionMismatches).toEqual([]);
    expect(rollups).toBe(total.sent);
  }, 120_000);
});
