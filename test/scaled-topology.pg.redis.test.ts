import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createBets } from '../src/bets/bets-module.js';
import type { CaseSpec } from '../src/bets/bets-types.js';
import { DEMO_FLEET } from '../src/fleet/demo-fleet.js';
import type { FleetSpec, FleetTenant } from '../src/fleet/fleet-spec.js';
import { tenantMaterial } from '../src/fleet/fleet-tenant-material.js';
import { seedFleet } from '../src/fleet/seed-fleet.js';
import { canaryBucket, inCanary } from '../src/gateway/routing/bucket.js';
import { HttpProviderClient } from '../src/providers/http-provider-client.js';
import { RedisChangeBus } from '../src/registry/redis-change-bus.js';
import { RegistryService } from '../src/registry/registry-service.js';
import { SqlRegistryStore } from '../src/registry/sql-registry-store.js';
import { systemClock } from '../src/shared/clock.js';
import { type RunningSimulator, startSimulator } from '../src/simulator/index.js';
import { PostgresDatabase } from '../src/storage/postgres-database.js';
import { freshPostgresDatabase, postgresAvailable } from '../src/test-support/postgres.js';
import { REDIS_URL, redisAvailable, uniquePrefix } from '../src/test-support/redis.js';
import { adminCall } from '../src/test-support/server-process.js';

/**
 * The scaled topology end to end: `switchyard cluster` (three gateways, two controllers, a
 * round-robin front) on one PostgreSQL database and one Redis prefix, the provider simulator
 * upstream, and a small fleet upgraded while multi-turn agent sessions hop between the gateways
 * (each turn of a session may reach another gateway, directly or through the front). The
 * scenarios are the simulation tests': one tenant blocked at BETS, one rolled back by the guard in
 * canary (its live traffic regresses, its golden cases do not), two completing. Checked:
 *   (a) a session's turns are answered by one version, except across a hard cut, after which it
 *       stays on stable (and is told so exactly once);
 *   (b) after the controller's freeze write, every gateway routes new sessions to stable within
 *       the propagation target (1 s), measured per gateway;
 *   (c) the controllers never take a step twice (audit log and rollout history, per step id),
 *       with both controllers alive throughout;
 *   (d) every request served is one telemetry event stored.
 * The only timing assertion is (b)'s, which is the spec; the rest waits by polling.
 */
const available = (await postgresAvailable()) && (await redisAvailable());
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const TOKEN = 'sya-scaled-topology-test-token-000000';
const CHANNEL = DEMO_FLEET.channel;
const STABLE = DEMO_FLEET.stable.id;
const CANDIDATE = DEMO_FLEET.candidate.id;
const PROPAGATION_TARGET_MS = 1000;

const demoTenant = (id: string): FleetTenant => {
  const t = DEMO_FLEET.tenants.find((x) => x.id === id);
  if (!t) throw new Error(`the demo fleet has no ${id}`);
  return t;
};

/**
 * Four tenants of the demo fleet. support-bot passes the failure policy `pass`, so every answer
 * names the version it was pinned to (with `fallback` a broken candidate answer is replaced by
 * stable's, and the response names stable for that turn).
 */
const FLEET: FleetSpec = {
  ...DEMO_FLEET,
  tenants: [
    // Regresses on live traffic only: a long 50% stage it never leaves but by the guard.
    { ...demoTenant('support-bot'), group: 'e2e-hold', failurePolicy: 'pass' },
    // Progresses: 50% for a few seconds, then 100%, then complete.
    { ...demoTenant('travel-booker'), group: 'e2e-fast' },
    // A pioneer: 100% at once, complete.
    demoTenant('math-tutor'),
    // Its golden cases catch the candidate's drift: blocked at BETS, never on the candidate.
    demoTenant('logistics-planner'),
  ],
};
const THRESHOLDS = { toolCall: 0.9, format: 0.9, semantic: 0.8 };
const GROUPS = [
  {
    id: 'e2e-hold',
    name: 'E2E: one long canary stage',
    rank: 5,
    plan: {
      stages: [{ percent: 50, soakHours: 1, approvals: [] }],
      betsThresholds: THRESHOLDS,
      shadowHours: 0,
      minDurationHours: 0,
    },
  },
  {
    id: 'e2e-fast',
    name: 'E2E: a short canary stage, then everyone',
    rank: 6,
    plan: {
      stages: [
        { percent: 50, soakHours: 0.002, approvals: [] },
        { percent: 100, soakHours: 0, approvals: [] },
      ],
      betsThresholds: THRESHOLDS,
      shadowHours: 0,
      minDurationHours: 0,
    },
  },
];

interface ClusterProcessInfo {
  name: string;
  role: string;
  url: string;
  pid: number;
}

interface Turn {
  tenantId: string;
  sessionId: string;
  index: number;
  via: string;
  status: number;
  version: string | null;
  cohort: string | null;
  reset: boolean;
}

interface Probe {
  sentAt: number;
  recvAt: number;
  cohort: string | null;
}

interface TenantTraffic {
  tenantId: string;
  apiKey: string;
  tasks: CaseSpec[];
}

interface RolloutView {
  tenantId: string;
  phase: string;
  rollbackStep: string | null;
  guard: { verdict: string; reason: string } | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

describe.skipIf(!available)(
  'scaled topology: switchyard cluster under an upgrade (PostgreSQL + Redis)',
  () => {
    let sim: RunningSimulator;
    let dropDb: (() => Promise<void>) | undefined;
    let db: PostgresDatabase;
    let dir: string;
    let cluster: ChildProcess | undefined;
    let frontUrl: string;
    let processes: ClusterProcessInfo[] = [];
    const clusterLines: Array<{ msg?: string; level?: number }> = [];
    const tail: string[] = [];
    let traffic: TenantTraffic[] = [];
    const direct = new Agent({ connections: 32 });
    // A new connection per request, so the front's round robin spreads requests, not connections.
    const fresh = new Agent({ pipelining: 0 });

    beforeAll(async () => {
      const logistics = (await tenantMaterial(demoTenant('logistics-planner'))).tools.map((t) => t.name);
      sim = await startSimulator({
        seed: 11,
        models: {
          [DEMO_FLEET.stable.upstreamModel]: {},
          [DEMO_FLEET.candidate.upstreamModel]: {
            drift: [
              // Numbers sent as strings on logistics-planner's tools: its golden cases catch it.
              { kind: 'number_as_string', rate: 1, tools: logistics },
              // Only support-bot's live traffic (which names the tenant) breaks: BETS runs pass.
              { kind: 'number_as_string', rate: 0.5, tenants: ['support-bot'] },
            ],
          },
          ...(DEMO_FLEET.judge ? { [DEMO_FLEET.judge.upstreamModel]: { judge: {} } } : {}),
        },
      });
      const pg = await freshPostgresDatabase();
      dropDb = pg.drop;
      db = new PostgresDatabase({ url: pg.url, maxConnections: 2 });
      const prefix = uniquePrefix();

      // The fleet, through the same audited services the API uses, before any process starts.
      const store = new SqlRegistryStore(db);
      const bus = new RedisChangeBus({ url: REDIS_URL, prefix });
      const registry = new RegistryService(store, bus, systemClock);
      const ctx = { actor: 'test:seed', reason: 'scaled topology test fleet' };
      await registry.seedDefaultGroups(ctx);
      for (const g of GROUPS) await registry.createGroup(ctx, g);
      const providers = new HttpProviderClient({
        connectTimeoutMs: 1000,
        headersTimeoutMs: 5000,
        bodyTimeoutMs: 5000,
        maxConnectionsPerOrigin: 4,
        keepAliveTimeoutMs: 1000,
      });
      const bets = createBets({ db, registry: store, providers, clock: systemClock });
      const seeded = await seedFleet(registry, store, bets.suites, FLEET, { endpoint: `${sim.url}/v1` });
      await bets.close();
      await providers.close();
      await bus.close();
      traffic = await Promise.all(
        seeded.tenants.map(async (t) => ({
          tenantId: t.tenantId,
          apiKey: t.apiKey,
          tasks: (await tenantMaterial(demoTenant(t.tenantId))).cases,
        })),
      );

      dir = mkdtempSync(join(tmpdir(), 'sy-cluster-'));
      const file = join(dir, 'switchyard.yaml');
      writeFileSync(
        file,
        stringify({
          server: { host: '127.0.0.1', port: 0 },
          storage: { driver: 'postgres', maxConnections: 5 },
          cache: { driver: 'redis', prefix },
          log: { level: 'info' },
          // The simulator scopes drift by tenant: live traffic says who it is.
          gateway: { upstreamTenantHeader: true, telemetry: { flushIntervalMs: 100 } },
          telemetry: { rollupFlushIntervalMs: 500, rollupGraceMs: 1000 },
          // Short loops, so an upgrade lives in seconds; the guard acts on the first settled minute.
          controller: {
            tickMs: 500,
            leaseMs: 3000,
            drainTimeoutMs: 2000,
            guard: {
              settleMs: 2000,
              persistence: { evaluations: 2, minDurationMs: 0 },
              minSamples: { canary: 20, control: 20 },
            },
          },
        }),
      );
      cluster = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/main.ts',
          'cluster',
          '--config',
          file,
          '--gateways',
          '3',
          '--controllers',
          '2',
        ],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            SWITCHYARD_DATABASE_URL: pg.url,
            SWITCHYARD_REDIS_URL: REDIS_URL,
            SWITCHYARD_ADMIN_TOKEN: TOKEN,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const child = cluster;
      const keep = (line: string) => {
        tail.push(line);
        if (tail.length > 60) tail.shift();
      };
      child.stderr?.on('data', (d: Buffer) => keep(d.toString()));
      const started = await new Promise<{ url: string; processes: ClusterProcessInfo[] }>(
        (resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`the cluster did not start in 90 s:\n${tail.join('\n')}`)),
            90_000,
          );
          child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`the cluster exited with ${code}:\n${tail.join('\n')}`));
          });
          createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
            keep(line);
            let rec: {
              proc?: string;
              msg?: string;
              level?: number;
              url?: string;
              processes?: ClusterProcessInfo[];
            };
            try {
              rec = JSON.parse(line);
            } catch {
              return;
            }
            if (rec.proc !== 'cluster') return;
            clusterLines.push(rec);
            if (rec.msg?.startsWith('Switchyard cluster is listening') && rec.url && rec.processes) {
              clearTimeout(timer);
              resolve({ url: rec.url, processes: rec.processes });
            }
          });
        },
      );
      frontUrl = started.url;
      processes = started.processes;
    }, 150_000);

    afterAll(async () => {
      if (cluster && cluster.exitCode === null && cluster.signalCode === null) {
        const exited = new Promise((r) => cluster?.once('exit', r));
        cluster.kill('SIGTERM');
        await Promise.race([exited, sleep(20_000)]);
      }
      // Whatever the cluster left behind (it should be nothing), by the ids it reported.
      for (const p of processes) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      if (cluster && cluster.exitCode === null) cluster.kill('SIGKILL');
      await direct.close();
      await fresh.close();
      await db?.close();
      await dropDb?.();
      await sim?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('keeps sessions on one version, propagates the rollback within 1 s and takes every step once', async () => {
      const gateways = processes.filter((p) => p.role === 'gateway');
      const controllers = processes.filter((p) => p.role === 'controller');
      expect(gateways).toHaveLength(3);
      expect(controllers).toHaveLength(2);
      // Every process reports its role; a controller refuses model traffic.
      for (const p of processes) {
        const ready = (await (await fetch(`${p.url}/readyz`)).json()) as { role: string };
        expect(ready.role).toBe(p.role);
      }
      const refused = await fetch(`${controllers[0]?.url}/v1/chat/completions`, { method: 'POST' });
      expect(refused.status).toBe(503);
      await refused.arrayBuffer();

      const turns: Turn[] = [];
      const failures: string[] = [];
      let served = 0;
      const targets = [
        ...gateways.map((g) => ({ name: g.name, url: g.url, via: direct })),
        { name: 'front', url: frontUrl, via: fresh },
      ];

      /** One chat request; the response headers say which version and cohort answered. */
      const ask = async (
        target: (typeof targets)[number],
        t: TenantTraffic,
        sessionId: string,
        body: Record<string, unknown>,
      ) => {
        const res = await request(`${target.url}/v1/chat/completions`, {
          method: 'POST',
          dispatcher: target.via,
          headers: {
            authorization: `Bearer ${t.apiKey}`,
            'content-type': 'application/json',
            'x-session-id': sessionId,
          },
          body: JSON.stringify({ model: CHANNEL, max_tokens: 128, ...body }),
        });
        served++;
        const h = (name: string) => {
          const v = res.headers[name];
          return typeof v === 'string' ? v : null;
        };
        const json = (await res.body.json()) as {
          choices?: Array<{ message?: { content?: string | null; tool_calls?: unknown[] } }>;
        };
        return {
          status: res.statusCode,
          version: h('x-switchyard-version'),
          cohort: h('x-switchyard-cohort'),
          reset: h('x-switchyard-session-reset') === 'true',
          message: json.choices?.[0]?.message,
        };
      };

      /**
       * A tool-using agent session: each turn to the next target in turn (so a session visits every
       * gateway and the front), tool calls answered with canned results, and the task asked again
       * after each text answer. Runs `turns` turns, or until `after` turns past a reset.
       */
      let sessionSeq = 0;
      const session = async (
        t: TenantTraffic,
        o: {
          turns: number;
          sessionId?: string;
          afterReset?: number;
          /** End the session at once unless its first answer comes from this cohort. */
          firstCohort?: string;
          stop: () => boolean;
        },
      ): Promise<Turn[]> => {
        const n = ++sessionSeq;
        const sessionId = o.sessionId ?? `s-${t.tenantId}-${n}`;
        const task = t.tasks[n % t.tasks.length] as CaseSpec;
        const opening = [
          ...(task.input.system ? [{ role: 'system', content: task.input.system }] : []),
          ...task.input.messages
            .filter((m) => m.role === 'user' || m.role === 'assistant')
            .map((m) => ({ role: m.role, content: m.content as string })),
        ];
        const tools = task.input.tools.map((tool) => ({
          type: 'function',
          function: { name: tool.name, description: tool.description, parameters: tool.parameters },
        }));
        let messages: unknown[] = [...opening];
        const mine: Turn[] = [];
        let resetAt = -1;
        for (let i = 0; i < o.turns && !o.stop(); i++) {
          if (resetAt >= 0 && i - resetAt > (o.afterReset ?? Number.POSITIVE_INFINITY)) break;
          const target = targets[(n + i) % targets.length] as (typeof targets)[number];
          let r: Awaited<ReturnType<typeof ask>>;
          try {
            r = await ask(target, t, sessionId, { messages, ...(tools.length ? { tools } : {}) });
          } catch (e) {
            failures.push(`${sessionId} turn ${i} via ${target.name}: ${(e as Error).message}`);
            break;
          }
          const { message, ...answer } = r;
          const turn = { tenantId: t.tenantId, sessionId, index: i, via: target.name, ...answer };
          mine.push(turn);
          turns.push(turn);
          if (r.reset && resetAt < 0) resetAt = i;
          if (i === 0 && o.firstCohort && r.cohort !== o.firstCohort) break;
          const calls = (message?.tool_calls ?? []) as Array<{ id: string; function: { name: string } }>;
          if (r.status === 200 && calls.length > 0) {
            messages = [
              ...messages,
              { role: 'assistant', content: message?.content ?? null, tool_calls: calls },
              ...calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: '{"ok":true}' })),
            ];
          } else {
            messages = [...opening];
          }
          await sleep(200);
        }
        return mine;
      };

      // Background agents of every tenant, from before the upgrade to the end.
      let stopTraffic = false;
      const byId = (id: string) => traffic.find((t) => t.tenantId === id) as TenantTraffic;
      const workers: Promise<unknown>[] = [];
      const worker = (id: string) =>
        workers.push(
          (async () => {
            while (!stopTraffic) await session(byId(id), { turns: 6, stop: () => stopTraffic });
          })(),
        );
      for (const [id, n] of [
        ['support-bot', 4],
        ['travel-booker', 3],
        ['math-tutor', 1],
        ['logistics-planner', 1],
      ] as const) {
        for (let i = 0; i < n; i++) worker(id);
      }

      const start = await adminCall<{ upgrade: { id: string } }>(frontUrl, TOKEN, 'POST', '/upgrades', {
        channel: CHANNEL,
        fromVersionId: STABLE,
        toVersionId: CANDIDATE,
        reason: 'scaled topology test',
      });
      expect(start.status).toBe(201);
      const upgradeId = start.body.upgrade.id;
      const rollouts = async () =>
        (
          await adminCall<{ rollouts: RolloutView[]; upgrade: { state: string } }>(
            frontUrl,
            TOKEN,
            'GET',
            `/upgrades/${upgradeId}`,
          )
        ).body;
      const phaseOf = async (tenantId: string) =>
        (await rollouts()).rollouts.find((r) => r.tenantId === tenantId)?.phase;

      await waitFor('support-bot in canary', 60_000, async () =>
        (await phaseOf('support-bot')) === 'canary' ? true : undefined,
      );

      // Sessions that land on the candidate (their bucket is in the 50%) and run until the hard cut
      // moves them, then a few turns more: the sessions a rollback must cut, and exactly once.
      const support = byId('support-bot');
      const canarySession = (tag: string) => {
        for (let i = 0; ; i++) {
          const id = `${tag}-${i}`;
          if (inCanary(canaryBucket('support-bot', id, upgradeId), 50)) return id;
        }
      };
      let stopLong = false;
      const long = [1, 2].map(async (n) => {
        for (let attempt = 0; !stopLong && !stopTraffic; attempt++) {
          const mine = await session(support, {
            sessionId: canarySession(`long-${n}-${attempt}`),
            turns: 2000,
            afterReset: 8,
            firstCohort: 'canary',
            stop: () => stopLong || stopTraffic,
          });
          // Pinned before the gateway saw the canary stage, or ended by the test: start another.
          if (mine.some((t) => t.reset)) return mine;
        }
        return [];
      });

      // Probes: on each gateway, new sessions whose bucket is in the canary, so an answer from
      // stable means that gateway applied the freeze.
      let stopProbes = false;
      const probes = new Map<string, Probe[]>(gateways.map((g) => [g.name, []]));
      let probeSeq = 0;
      const probers = gateways.map(async (g) => {
        const target = targets.find((x) => x.name === g.name) as (typeof targets)[number];
        while (!stopProbes) {
          const id = canarySession(`probe-${g.name}-${++probeSeq}`);
          const sentAt = Date.now();
          try {
            const r = await ask(target, support, id, { messages: [{ role: 'user', content: 'hello' }] });
            probes.get(g.name)?.push({ sentAt, recvAt: Date.now(), cohort: r.cohort });
          } catch (e) {
            failures.push(`probe on ${g.name}: ${(e as Error).message}`);
          }
          await sleep(100);
        }
      });

      // The guard sees support-bot's canary break its contract and rolls it back.
      // It judges whole minutes from the stage's start, settled: the first complete minute of
      // canary traffic decides, so this takes one to two minutes of real time.
      let guardSaid = '';
      await waitFor('support-bot rolled back', 180_000, async () => {
        const r = (await rollouts()).rollouts.find((x) => x.tenantId === 'support-bot');
        guardSaid = `${r?.phase}: ${r?.guard?.reason ?? 'no decision yet'}`;
        return r?.phase === 'rolled_back' ? true : undefined;
      }).catch((e: Error) => {
        throw new Error(`${e.message} (support-bot ${guardSaid})`);
      });
      stopProbes = true;
      await Promise.all(probers);
      const longTurns = (
        (await Promise.race([Promise.all(long), sleep(30_000).then(() => null)])) ?? []
      ).flat();
      stopLong = true;
      // The others finish where the simulation tests say: complete, complete, blocked.
      const final = await waitFor('the upgrade to complete', 90_000, async () => {
        const s = await rollouts();
        return s.upgrade.state === 'complete' ? s : undefined;
      });
      stopTraffic = true;
      await Promise.all([...workers, ...long]);
      expect(failures).toEqual([]);
      expect(Object.fromEntries(final.rollouts.map((r) => [r.tenantId, r.phase]))).toEqual({
        'support-bot': 'rolled_back',
        'travel-booker': 'complete',
        'math-tutor': 'complete',
        'logistics-planner': 'blocked',
      });

      // (a) One version per session, except across a hard cut, after which stable, told once.
      expect(turns.every((t) => t.status === 200)).toBe(true);
      const sessions = new Map<string, Turn[]>();
      for (const t of turns) sessions.set(t.sessionId, [...(sessions.get(t.sessionId) ?? []), t]);
      const cut: string[] = [];
      const violations: string[] = [];
      for (const [id, ts] of sessions) {
        ts.sort((x, y) => x.index - y.index);
        const resets = ts.filter((t) => t.reset);
        const at = ts.findIndex((t) => t.reset);
        const before = new Set((at < 0 ? ts : ts.slice(0, at)).map((t) => t.version));
        const after = new Set((at < 0 ? [] : ts.slice(at)).map((t) => t.version));
        // Runs of one version, with where each run started: `06 x23 @gateway-3 | 01 (reset) x9 @gateway-1`.
        const path = ts
          .reduce<Array<{ t: Turn; n: number }>>((runs, t) => {
            const last = runs.at(-1);
            if (last && last.t.version === t.version && !t.reset) last.n++;
            else runs.push({ t, n: 1 });
            return runs;
          }, [])
          .map(({ t, n }) => `${t.version}${t.reset ? ' (reset)' : ''} x${n} from turn ${t.index} @${t.via}`)
          .join(' | ');
        if (resets.length > 1 || before.size > 1 || after.size > 1) violations.push(`${id}: ${path}`);
        if (at >= 0) {
          cut.push(id);
          if (ts[0]?.tenantId !== 'support-bot' || !before.has(CANDIDATE) || !after.has(STABLE)) {
            violations.push(`${id} was cut from the wrong version or tenant: ${path}`);
          }
        }
      }
      expect(violations).toEqual([]);
      // The long canary sessions were all live at the cut: each was moved, once.
      const longIds = new Set(longTurns.map((t) => t.sessionId));
      expect(longIds.size).toBe(2);
      for (const id of longIds) expect(cut).toContain(id);
      const incident = await db.get<{ report: string }>(
        `SELECT report FROM incidents WHERE tenant_id = 'support-bot'`,
      );
      const sessionsCut = (JSON.parse(incident?.report ?? '{}') as { cohort?: { sessionsCut?: number } })
        .cohort?.sessionsCut;
      // Every session moved by the cut was one the controller counted on the candidate when it cut,
      // and the gateways together told exactly as many sessions to reset as we saw.
      expect(cut.length).toBeGreaterThanOrEqual(2);
      expect(sessionsCut).toBeGreaterThanOrEqual(cut.length);
      let resetsCounted = 0;
      for (const g of gateways) {
        const status = await adminCall<{ gateway: { counters: { sessionResets: number } } }>(
          g.url,
          TOKEN,
          'GET',
          '/status',
        );
        resetsCounted += status.body.gateway.counters.sessionResets;
      }
      expect(resetsCounted).toBe(cut.length);
      console.info(
        `sessions: ${sessions.size} multi-turn (${turns.length} turns over ${targets.length} targets), ${cut.length} hard-cut, ${sessionsCut} on the candidate at the cut`,
      );

      // (b) Every gateway routes new sessions to stable within the target of the freeze write.
      const freeze = await db.get<{ at: string }>(
        `SELECT at FROM audit_log WHERE actor = 'controller' AND tenant_id = 'support-bot'
       AND reason LIKE '%:freeze:set_traffic'`,
      );
      expect(freeze).toBeDefined();
      const frozenAt = Date.parse(freeze?.at ?? '');
      const delays = gateways.map((g) => {
        const ps = (probes.get(g.name) ?? []).sort((x, y) => x.sentAt - y.sentAt);
        // The gateway routed new sessions to the canary before the freeze...
        expect(ps.some((p) => p.cohort === 'canary' && p.recvAt <= frozenAt)).toBe(true);
        // ... and to stable from the first probe after its last canary answer.
        const lastCanary = ps.map((p) => p.cohort).lastIndexOf('canary');
        const firstStable = ps[lastCanary + 1];
        expect(firstStable?.cohort).toBe('stable');
        return Math.max(0, (firstStable?.recvAt ?? Number.POSITIVE_INFINITY) - frozenAt);
      });
      console.info(
        `rollback freeze -> new sessions on stable, per gateway (upper bounds, probe round trip included): ${delays.map((d) => `${d} ms`).join(', ')}`,
      );
      for (const d of delays) expect(d).toBeLessThan(PROPAGATION_TARGET_MS);

      // (c) Each step once: one registry change per (tenant, step id), one history line per
      // (rollout, step id), every step recorded in the rollout; both controllers alive.
      const audit = await db.all<{ tenant_id: string | null; entity_id: string; reason: string }>(
        `SELECT tenant_id, entity_id, reason FROM audit_log WHERE actor = 'controller'`,
      );
      const stepOf = (reason: string) => reason.slice(reason.lastIndexOf(': ') + 2);
      const count = (keys: string[]) => {
        const m = new Map<string, number>();
        for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
        return [...m].filter(([, n]) => n > 1);
      };
      const tenantSteps = audit.filter((a) => a.tenant_id !== null);
      expect(tenantSteps.length).toBeGreaterThan(0);
      expect(count(tenantSteps.map((a) => `${a.tenant_id} ${stepOf(a.reason)}`))).toEqual([]);
      // The upgrade's own steps (the new version active once the upgrade completes): once each.
      expect(
        count(audit.filter((a) => a.tenant_id === null).map((a) => `${a.entity_id} ${a.reason}`)),
      ).toEqual([]);
      const effects = await db.all<{ rollout_id: string; detail: string }>(
        `SELECT rollout_id, detail FROM rollout_events WHERE action LIKE 'effect:%'`,
      );
      const stepIdOf = (detail: string) => detail.split(':').slice(0, 4).join(':');
      expect(count(effects.map((e) => `${e.rollout_id} ${stepIdOf(e.detail)}`))).toEqual([]);
      const recorded = await db.all<{ id: string; tenant_id: string; applied_steps: string }>(
        'SELECT id, tenant_id, applied_steps FROM tenant_rollouts',
      );
      for (const r of recorded) {
        const steps = JSON.parse(r.applied_steps) as string[];
        expect(new Set(steps).size).toBe(steps.length);
        for (const a of tenantSteps.filter((x) => x.tenant_id === r.tenant_id)) {
          expect(steps).toContain(stepOf(a.reason));
        }
        for (const e of effects.filter((x) => x.rollout_id === r.id))
          expect(steps).toContain(stepIdOf(e.detail));
      }
      const completions = await db.all('SELECT 1 FROM rollout_events WHERE action = ?', ['upgrade_complete']);
      expect(completions).toHaveLength(1);
      for (const c of controllers) {
        expect(() => process.kill(c.pid, 0)).not.toThrow();
        expect(((await (await fetch(`${c.url}/readyz`)).json()) as { role: string }).role).toBe('controller');
      }
      const lease = await db.get<{ holder: string }>(
        `SELECT holder FROM controller_leases WHERE name = 'rollout-controller'`,
      );
      expect(controllers.map((c) => String(c.pid))).toContain(lease?.holder.split(':')[1]);
      // Nothing crashed or was restarted.
      expect(clusterLines.filter((l) => (l.level ?? 0) >= 40).map((l) => l.msg)).toEqual([]);

      // (d) Every request served is one telemetry event stored (the gateways write in batches).
      const stored = await waitFor('every telemetry event stored', 15_000, async () => {
        const row = await db.get<{ n: string | number }>('SELECT COUNT(*) AS n FROM telemetry_events');
        return Number(row?.n) === served ? served : undefined;
      }).catch(async () =>
        Number((await db.get<{ n: string }>('SELECT COUNT(*) AS n FROM telemetry_events'))?.n),
      );
      expect(stored).toBe(served);

      // SIGTERM to the cluster reaches every process; the cluster exits once they have stopped.
      const exited = new Promise<number | null>((r) => cluster?.once('exit', (code) => r(code)));
      cluster?.kill('SIGTERM');
      expect(await exited).toBe(0);
      for (const p of processes) expect(() => process.kill(p.pid, 0)).toThrow();
    }, 300_000);
  },
);
