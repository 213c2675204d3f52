import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CANDIDATE,
  FaultScenario,
  faultInfrastructureAvailable,
} from '../../src/test-support/faults/scenario.js';
import { TrafficDriver } from '../../src/test-support/faults/traffic.js';

const available = await faultInfrastructureAvailable();

interface GatewayStatus {
  telemetry: { accepted: number; dropped: number; failed: number; buffered: number };
  breakers: Array<{ versionId: string; state: string }>;
}
interface RollupStatus {
  droppedOpen: number;
  droppedPending: number;
}

/** Streams that take about a second (24 frames 40 ms apart), so a client can leave in the middle. */
const SLOW_STREAMS = {
  latency: { firstToken: { p50Ms: 40 }, total: { p50Ms: 60 }, interChunkMs: 40 },
  streaming: { chunkChars: 8 },
};

async function gatewayStats(s: FaultScenario) {
  return Promise.all(
    s.liveNodes().map(async (n) => {
      const st = await s.status(n);
      return {
        gateway: st.gateway as unknown as GatewayStatus,
        rollups: (st.telemetry as { rollups: RollupStatus }).rollups,
      };
    }),
  );
}

/**
 * Faults on the client side, while an upgrade is in canary at 50% on two gateways.
 *
 * Clients that disconnect mid-stream. What must hold:
 *  - every abandoned stream is let go upstream too: once the clients are gone no provider stream
 *    goes on (no bytes arrive from either provider afterwards), so nothing stays in flight;
 *  - no event is lost: one stored event per request, those the clients abandoned included (as
 *    `client_closed`, 499), and a disconnect is not the model's failure: no error in the rollups,
 *    no breaker opened by it;
 *  - the other clients are not affected: zero failed requests.
 *
 * A burst of ten times the usual rate. What must hold:
 *  - the burst is served without errors (the gateway sheds no load: no 429 or 503, no failure
 *    of any kind), and no telemetry is dropped on the way (sink and rollups count no drop);
 *  - one stored event per request, and the rollups count every one.
 */
describe.skipIf(!available)(
  'fault: clients that disconnect mid-stream, and a 10x burst (PostgreSQL + Redis)',
  () => {
    let s: FaultScenario | undefined;

    afterEach(async () => {
      await s?.close();
      s = undefined;
    });

    async function scenario(prefix: string): Promise<FaultScenario> {
      s = await FaultScenario.start({
        tenants: [{ id: `${prefix}-a` }, { id: `${prefix}-b` }],
        plan: { stages: [{ percent: 50, soakHours: 1 }] },
        stableProfile: SLOW_STREAMS,
        candidateProfile: SLOW_STREAMS,
      });
      await s.startUpgradeToCanary();
      return s;
    }

    it('lets disconnected streams go upstream too, and stores every request, abandoned ones included', async () => {
      const sc = await scenario('dc');
      const traffic = new TrafficDriver({
        gateways: () => sc.gatewayUrls(),
        tenants: sc.tenants,
        channel: 'assistant',
        sessionsPerSecond: 8,
        turns: 3,
        thinkMs: 50,
        streamShare: 0.7,
        disconnectShare: 0.5,
        maxTokens: 48,
        sessionPrefix: 'dc',
      }).start();
      await sleep(6000);
      await traffic.stop();
      // Then a wave of agents that all leave mid-stream at once: each of their provider streams has
      // about a second to go when its client leaves. Once they are all gone, nothing may arrive
      // from the providers any more.
      const upstream = () =>
        sc.stableProxy.stats().bytesFromTarget + sc.candidateProxy.stats().bytesFromTarget;
      const wave = new TrafficDriver({
        gateways: () => sc.gatewayUrls(),
        tenants: sc.tenants,
        channel: 'assistant',
        sessionsPerSecond: 0,
        turns: 1,
        streamShare: 1,
        disconnectShare: 1,
        maxTokens: 48,
        sessionPrefix: 'dc-wave',
      });
      const bytesBeforeWave = upstream();
      await wave.burst(40);
      const waveBytes = upstream() - bytesBeforeWave;
      await sleep(100);
      const bytesAtEnd = upstream();
      await sleep(1500);
      const bytesAfter = upstream() - bytesAtEnd;
      const stats = await gatewayStats(sc);
      await sc.stopNodes();

      const w = wave.counts();
      const t = traffic.counts();
      const c = {
        sent: t.sent + w.sent,
        streams: t.streams + w.streams,
        disconnected: t.disconnected + w.disconnected,
        succeeded: t.succeeded + w.succeeded,
        failed: t.failed + w.failed,
      };
      const requestIds = [...traffic.requestIds, ...wave.requestIds];
      const perSession = [...traffic.perSession, ...wave.perSession];
      const stored = await sc.storedRequestIds('dc');
      const missingIds = requestIds.filter((id) => !stored.has(id));
      const sessions = await sc.eventsBySession('dc');
      const sessionMismatches = perSession.filter(([id, n]) => sessions.get(id) !== n);
      const closed = await sc.eventCount('dc', "error_type = 'client_closed' AND status = 499");
      const rollupErrors = await sc.db.get<{ n: number | null }>(
        "SELECT SUM(errors) AS n FROM telemetry_rollups WHERE tenant_id LIKE 'dc-%'",
      );
      const rollups = await sc.rollupRequests("tenant_id LIKE 'dc-%'");
      console.info(
        `[faults] disconnects: sent ${c.sent} (${c.streams} streams), disconnected mid-stream ${c.disconnected}, ` +
          `succeeded ${c.succeeded}, failed ${c.failed}; events ${stored.size} (client_closed ${closed}); ` +
          `wave: ${w.disconnected} of ${w.sent} left mid-stream, provider bytes while they streamed ${waveBytes}, ` +
          `after the last one left ${bytesAfter}; rollup requests ${rollups}, errors ${Number(rollupErrors?.n ?? 0)}; ` +
          `breakers ${JSON.stringify(stats.map((x) => x.gateway.breakers))}`,
      );

      expect(c.disconnected).toBeGreaterThan(20);
      expect(w.disconnected).toBe(40);
      expect([...traffic.failures, ...wave.failures], sc.logs()).toEqual([]);
      expect(c.failed).toBe(0);
      expect(c.succeeded + c.disconnected).toBe(c.sent);
      // Nothing left in flight upstream once the clients were gone.
      expect(bytesAfter).toBe(0);
      for (const x of stats) {
        expect(x.gateway.breakers).toEqual([]);
        expect(x.gateway.telemetry.dropped).toBe(0);
      }
      // Abandoned requests are recorded (as the client's doing, not the model's).
      expect(closed).toBeGreaterThan(0);
      expect(closed).toBeLessThanOrEqual(c.disconnected);
      expect(Number(rollupErrors?.n ?? 0)).toBe(0);
      expect(missingIds).toEqual([]);
      expect(stored.size).toBe(c.sent);
      expect(sessionMismatches).toEqual([]);
      expect(rollups).toBe(c.sent);
    }, 90_000);

    it('serves a burst of ten times the usual rate without an error or a dropped event', async () => {
      const sc = await scenario('burst');
      const usual = 6;
      const traffic = new TrafficDriver({
        gateways: () => sc.gatewayUrls(),
        tenants: sc.tenants,
        channel: 'assistant',
        sessionsPerSecond: usual,
        turns: 4,
        thinkMs: 100,
        streamShare: 0.3,
        sessionPrefix: 'burst',
      }).start();
      traffic.phase('usual');
      await sleep(3000);
      traffic.phase('burst');
      traffic.setRate(usual * 10);
      await sleep(3000);
      traffic.setRate(usual);
      traffic.phase('after');
      await sleep(3000);
      await traffic.stop();
      const stats = await gatewayStats(sc);
      await sc.stopNodes();

      const c = traffic.counts();
      const phases = ['usual', 'burst', 'after'].map((p) => ({ p, c: traffic.counts(p) }));
      const stored = await sc.storedRequestIds('burst');
      const missingIds = [...traffic.requestIds].filter((id) => !stored.has(id));
      const rollups = await sc.rollupRequests("tenant_id LIKE 'burst-%'");
      console.info(
        `[faults] burst: ${phases
          .map(
            ({ p, c: pc }) =>
              `${p}: ${pc.sessionsStarted} sessions, ${pc.sent} requests, failed ${pc.failed}, ` +
              `p50 ${traffic.latency(p, 0.5).toFixed(0)} ms, p99 ${traffic.latency(p, 0.99).toFixed(0)} ms`,
          )
          .join('; ')}; cohorts ${JSON.stringify(c.byCohort)}; telemetry dropped ` +
          `${JSON.stringify(stats.map((x) => x.gateway.telemetry.dropped))}; events ${stored.size}, rollup requests ${rollups}`,
      );

      const burst = traffic.counts('burst');
      const usualCounts = traffic.counts('usual');
      // Ten times the sessions per second (a tolerance for the start-up of the rate).
      expect(burst.sessionsStarted).toBeGreaterThanOrEqual(usualCounts.sessionsStarted * 8);
      expect(traffic.failures, sc.logs()).toEqual([]);
      expect(c.failed).toBe(0);
      expect(burst.failed).toBe(0);
      expect(burst.succeeded).toBe(burst.sent);
      expect(c.byVersion[CANDIDATE] ?? 0).toBeGreaterThan(0);
      for (const x of stats) {
        expect(x.gateway.telemetry.dropped).toBe(0);
        expect(x.gateway.telemetry.failed).toBe(0);
        expect(x.rollups.droppedOpen + x.rollups.droppedPending).toBe(0);
      }
      expect(missingIds).toEqual([]);
      expect(stored.size).toBe(c.sent);
      expect(rollups).toBe(c.sent);
    }, 90_000);
  },
);
