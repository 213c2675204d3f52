import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  CANDIDATE,
  FaultScenario,
  faultInfrastructureAvailable,
  STABLE,
} from '../../src/test-support/faults/scenario.js';
import { type FailureSample, TrafficDriver } from '../../src/test-support/faults/traffic.js';

const available = await faultInfrastructureAvailable();

/** Clock speed of the processes: one real second is a minute of rollups and guard time. */
const SCALE = 60;
const MINUTE = 60_000;
const FALLBACK = 'pf-fallback';
const ERROR = 'pf-error';
/** The breaker's verdict needs this many calls in its window (per process). */
const BREAKER_MIN_REQUESTS = 20;

interface BreakerView {
  versionId: string;
  state: string;
}

/**
 * Fault: the candidate version's provider fails (connections refused: `fail`) or stops answering
 * (`hang`: connections accepted, nothing ever comes back) while the upgrade is in canary at 50%.
 * The provider is taken away by a fault proxy between the gateways and the simulator.
 *
 * What must hold:
 *  - failure policy `fallback`: the agents see nothing of it: zero failed requests, the
 *    candidate's failures answered by stable (`candidate_error`), then, once the breaker is open,
 *    stable answers at once (`breaker_open`);
 *  - failure policy `error`: the agents get the candidate's failure itself (that is the policy),
 *    but only until the breaker opens: at most the breaker's minimum number of calls per process;
 *  - the circuit breaker of the candidate opens on every gateway and stays open (health names it);
 *  - the controller sees it: the guard finds the request error rate of the canary cohort worse than
 *    control and rolls both tenants back (action policy `rollback`), each with one incident whose
 *    trigger is the request error signal; after that every answer comes from stable;
 *  - nothing is lost: one telemetry event per request sent, and the rollups count every one.
 */
describe.skipIf(!available)('fault: the candidate provider fails or hangs (PostgreSQL + Redis)', () => {
  async function run(kind: 'fail' | 'hang'): Promise<void> {
    const s = await FaultScenario.start({
      timeScale: SCALE,
      tenants: [
        { id: FALLBACK, failurePolicy: 'fallback', actionPolicy: 'rollback' },
        { id: ERROR, failurePolicy: 'error', actionPolicy: 'rollback' },
      ],
      plan: { stages: [{ percent: 50, soakHours: 1 }] },
      config: {
        gateway: {
          // Real milliseconds (timers): a hung provider costs a request 800 ms before stable answers.
          headersTimeoutMs: 800,
          bodyTimeoutMs: 800,
          // On the process clock: a window and an open time of minutes, i.e. seconds here.
          breaker: { windowMs: 10 * MINUTE, openMs: 10 * MINUTE, minRequests: BREAKER_MIN_REQUESTS },
        },
      },
    });
    try {
      await s.startUpgradeToCanary();
      const prefix = `pf-${kind}`;
      // One driver per tenant, so each policy's outcome is counted on its own.
      const perTenant = s.tenants.map(
        (t) =>
          new TrafficDriver({
            gateways: () => s.gatewayUrls(),
            tenants: [t],
            channel: 'assistant',
            sessionsPerSecond: 6,
            turns: 4,
            thinkMs: 100,
            streamShare: 0.3,
            sessionPrefix: `${prefix}-${t.id}`,
          }),
      );
      for (const d of perTenant) d.start().phase('healthy');
      await sleep(4000);

      if (kind === 'fail') s.candidateProxy.down();
      else s.candidateProxy.blackhole();
      const faultAt = Date.now();
      for (const d of perTenant) d.phase('fault');
      await s.waitFor(
        async () =>
          (await Promise.all(s.nodes.map((n) => s.status(n)))).every((st) =>
            ((st.gateway as { breakers: BreakerView[] }).breakers ?? []).some(
              (b) => b.versionId === CANDIDATE && b.state === 'open',
            ),
          ),
        15_000,
        'the candidate breaker is open on every gateway',
      );
      const breakerOpenInMs = Date.now() - faultAt;
      const readiness = await Promise.all(s.nodes.map((n) => s.readyz(n)));
      // The controller sees it and rolls both tenants back.
      await s.waitForPhase('rolled_back', undefined, 40_000);
      const rolledBackInMs = Date.now() - faultAt;
      for (const d of perTenant) d.phase('after');
      await sleep(2000);
      await Promise.all(perTenant.map((d) => d.stop()));
      await s.stopNodes();

      const [fb, er] = perTenant as [TrafficDriver, TrafficDriver];
      const fbAll = fb.counts();
      const erAll = er.counts();
      const fbFault = fb.counts('fault');
      const erFault = er.counts('fault');
      const after = [fb.counts('after'), er.counts('after')];
      const incidents = await s.incidents();
      const decisions = await Promise.all(
        [FALLBACK, ERROR].map(async (t) => (await s.rolloutOf(t)).control?.trigger ?? null),
      );
      const fallbacks = await s.db.all<{ fallback: string | null; n: number }>(
        'SELECT fallback, COUNT(*) AS n FROM telemetry_events WHERE tenant_id = ? GROUP BY fallback',
        [FALLBACK],
      );
      const sent = fbAll.sent + erAll.sent;
      const stored =
        (await s.eventCount(`${prefix}-${FALLBACK}`)) + (await s.eventCount(`${prefix}-${ERROR}`));
      const rollups = await s.rollupRequests("tenant_id LIKE 'pf-%'");
      console.info(
        `[faults] provider ${kind}: breaker open on both gateways ${breakerOpenInMs} ms after the fault, ` +
          `both tenants rolled back ${rolledBackInMs} ms after it (triggers ${decisions.map((d) => `${d?.signal}:${d?.verdict}`).join(', ')}); ` +
          `fallback tenant: sent ${fbAll.sent}, failed ${fbAll.failed} (during the fault ${fbFault.sent} sent, versions ${JSON.stringify(fbFault.byVersion)}); ` +
          `error tenant: sent ${erAll.sent}, failed ${erAll.failed} ${JSON.stringify(erAll.failedBy)} (during the fault ${erFault.sent}); ` +
          `fallback reasons ${JSON.stringify(Object.fromEntries(fallbacks.map((f) => [f.fallback ?? 'none', Number(f.n)])))}; ` +
          `incidents ${incidents.length}; events ${stored} of ${sent}; rollup requests ${rollups}`,
      );

      // A stream the candidate was already sending when the fault hit cannot move to stable (its
      // first bytes are out): the agent gets the in-stream error, as documented. Only those may fail.
      const cutMidStream = (f: FailureSample) =>
        f.phase === 'healthy' && f.kind === 'stream_error' && f.atMs >= faultAt;
      const cut = [fb, er].map((d) => d.failures.filter(cutMidStream).length);
      // Policy fallback: nothing else reaches the agents.
      expect(
        fb.failures.filter((f) => !cutMidStream(f)),
        s.logs(),
      ).toEqual([]);
      expect(fbAll.failed).toBe(cut[0]);
      expect(fbFault.sent).toBeGreaterThan(20);
      const reasons = Object.fromEntries(fallbacks.map((f) => [f.fallback ?? 'none', Number(f.n)]));
      expect(reasons.candidate_error ?? 0).toBeGreaterThan(0);
      expect(reasons.breaker_open ?? 0).toBeGreaterThan(0);
      // Policy error: the candidate's failure itself, only until the breaker opened.
      expect(erAll.failed).toBeGreaterThan(0);
      expect(erAll.failed).toBeLessThanOrEqual(BREAKER_MIN_REQUESTS * s.nodes.length + (cut[1] ?? 0));
      expect(er.failures.filter((f) => f.kind === 'stream_error' && !cutMidStream(f))).toEqual([]);
      expect(
        Object.keys(erAll.failedBy).every((k) => ['502', '503', '504', 'stream_error'].includes(k)),
      ).toBe(true);
      // The breaker is visible in health.
      for (const r of readiness) expect(r.down).toContain(`model-version:${CANDIDATE}`);
      // The controller saw it: both rolled back on the request error signal, one incident each.
      for (const d of decisions) expect(d).toMatchObject({ verdict: 'rollback', signal: 'request_error' });
      expect(incidents.map((i) => i.tenant_id).sort()).toEqual([ERROR, FALLBACK]);
      // After the rollback, stable serves everyone.
      for (const a of after) {
        expect(a.failed).toBe(0);
        expect(a.byVersion).toEqual(a.sent > 0 ? { [STABLE]: a.sent } : {});
      }
      // Nothing lost.
      expect(stored).toBe(sent);
      expect(rollups).toBe(sent);
    } finally {
      await s.close();
    }
  }

  it('fails (connections refused): fallback holds, the breaker opens, the controller rolls back', async () => {
    await run('fail');
  }, 120_000);

  it('hangs (no answer): the timeout, fallback and breaker hold, the controller rolls back', async () => {
    await run('hang');
  }, 120_000);
});
