import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJson } from '../../rollout/json-codec.js';
import type { RolloutControl, TenantRollout } from '../../rollout/rollout-types.js';
import { SqlRolloutStore } from '../../rollout/sql-rollout-store.js';
import { type BehaviourProfile, type RunningSimulator, startSimulator } from '../../simulator/index.js';
import { PostgresDatabase } from '../../storage/postgres-database.js';
import { freshPostgresDatabase, postgresAvailable } from '../postgres.js';
import { REDIS_URL, redisAvailable, uniquePrefix } from '../redis.js';
import { FaultProxy } from './fault-proxy.js';
import { PrivateRedis } from './private-redis.js';
import { SharedScaledClock } from './scaled-clock.js';
import { type SwitchyardNode, startNode } from './switchyard-node.js';
import type { TrafficTenant } from './traffic.js';

/**
 * A scaled deployment for fault tests: N real Switchyard processes (each one gateway + controller,
 * the controller leading through the lease row) on one fresh PostgreSQL database and one Redis,
 * the provider simulator playing the stable version and the candidate (each behind a fault proxy), a
 * rollout group of the test's plan, tenants with keys on channel `assistant`, and an upgrade
 * from `a-01` to `a-02`. Everything a test counts (telemetry events, rollups, audit entries,
 * rollout steps, incidents, notifications) is read straight from the database.
 */

export const TOKEN = 'sya-fault-tests-operator-token-0000';
export const CHANNEL = 'assistant';
export const STABLE = 'a-01';
export const CANDIDATE = 'a-02';

type Json = Record<string, unknown>;

export interface ScenarioTenant {
  id: string;
  failurePolicy?: 'fallback' | 'error' | 'coerce' | 'pass';
  actionPolicy?: 'rollback' | 'pause' | 'escalate';
}

export interface ScenarioPlan {
  stages: Array<{ percent: number; soakHours: number }>;
  shadowHours?: number;
  minDurationHours?: number;
}

export interface ScenarioOptions {
  nodes?: number;
  /** Clock speed of the processes (1: real time and the real `switchyard serve`). */
  timeScale?: number;
  /** Put a fault proxy between the processes and PostgreSQL (`scenario.pgProxy`). */
  pgProxy?: boolean;
  /** Run a private Redis the test may stop and start (`scenario.redis`); else the shared one. */
  privateRedis?: boolean;
  /** Deep-merged over the defaults below. */
  config?: Json;
  tenants: ScenarioTenant[];
  plan: ScenarioPlan;
  stableProfile?: BehaviourProfile;
  candidateProfile?: BehaviourProfile;
  /** Receive the controller's webhooks (`scenario.webhooks`). */
  webhooks?: boolean;
}

/** Whether the PostgreSQL + Redis fault suites can run (they skip with a message otherwise). */
export async function faultInfrastructureAvailable(needsRedisServer = false): Promise<boolean> {
  if (!(await postgresAvailable()) || !(await redisAvailable())) return false;
  if (needsRedisServer && !PrivateRedis.available()) {
    if (process.env.SWITCHYARD_REQUIRE_REDIS === '1')
      throw new Error('SWITCHYARD_REQUIRE_REDIS=1 but redis-server cannot be run for a private Redis');
    console.warn(
      '[skip] Redis fault suites skipped: redis-server is not installed (needed for a private Redis).',
    );
    return false;
  }
  return true;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k] as Json, v) : v;
  }
  return out;
}

export interface WebhookDelivery {
  event: string;
  delivery: string;
  body: Json;
}

export class FaultScenario {
  readonly nodes: SwitchyardNode[] = [];
  tenants: TrafficTenant[] = [];
  upgradeId = '';

  private constructor(
    readonly opts: ScenarioOptions,
    readonly db: PostgresDatabase,
    readonly databaseUrl: string,
    private readonly dropDatabase: () => Promise<void>,
    readonly sim: RunningSimulator,
    /** Between the gateways and the stable version's provider. */
    readonly stableProxy: FaultProxy,
    /** Between the gateways and the candidate's provider. */
    readonly candidateProxy: FaultProxy,
    readonly pgProxy: FaultProxy | null,
    readonly redis: PrivateRedis | null,
    readonly redisUrl: string,
    readonly prefix: string,
    readonly clock: SharedScaledClock,
    readonly epochMs: number,
    private readonly webhookServer: Server | null,
    /** Every webhook the processes delivered. */
    readonly webhookDeliveries: WebhookDelivery[],
    readonly config: Json,
  ) {}

  get rollouts(): SqlRolloutStore {
    return new SqlRolloutStore(this.db);
  }

  static async start(opts: ScenarioOptions): Promise<FaultScenario> {
    const fresh = await freshPostgresDatabase();
    const db = new PostgresDatabase({ url: fresh.url, maxConnections: 6 });
    const pgUrl = new URL(fresh.url);
    const pgProxy = opts.pgProxy
      ? await FaultProxy.start({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) })
      : null;
    const redis = opts.privateRedis ? await PrivateRedis.start() : null;
    const sim = await startSimulator({
      seed: 8,
      models: {
        'sim-stable': opts.stableProfile ?? { latency: { total: { p50Ms: 20 } } },
        'sim-candidate': opts.candidateProfile ?? { latency: { total: { p50Ms: 20 } } },
      },
    });
    const simUrl = new URL(sim.url);
    const target = { host: simUrl.hostname, port: Number(simUrl.port) };
    const stableProxy = await FaultProxy.start(target);
    const candidateProxy = await FaultProxy.start(target);
    const deliveries: WebhookDelivery[] = [];
    const webhookServer = opts.webhooks ? await startWebhookReceiver(deliveries) : null;
    const scale = opts.timeScale ?? 1;
    const epochMs = Date.now();
    const clock = new SharedScaledClock(scale, epochMs);
    const prefix = uniquePrefix();
    const defaults: Json = {
      server: { port: 0 },
      storage: { driver: 'postgres', maxConnections: 5 },
      cache: { driver: 'redis', prefix },
      snapshot: { busCheckIntervalMs: 250, storeCheckIntervalMs: 1000 },
      gateway: {
        telemetry: { flushIntervalMs: 100 },
        connectTimeoutMs: 1000,
        headersTimeoutMs: 5000,
        bodyTimeoutMs: 5000,
      },
      controller: {
        tickMs: 250,
        leaseMs: 3000 * scale,
        drainTimeoutMs: 2000 * scale,
        betsWithoutSuite: 'pass',
        ...(webhookServer
          ? {
              webhooks: [
                {
                  url: `http://127.0.0.1:${(webhookServer.address() as AddressInfo).port}/hook`,
                  secret: 'env:SWITCHYARD_FAULT_WEBHOOK_SECRET',
                },
              ],
            }
          : {}),
      },
      telemetry: { rollupFlushIntervalMs: 200, rollupGraceMs: Math.min(60_000, 1000 * scale) },
      classification: { enabled: false },
      log: { level: 'info' },
    };
    const config = deepMerge(defaults, opts.config ?? {});
    const s = new FaultScenario(
      opts,
      db,
      fresh.url,
      fresh.drop,
      sim,
      stableProxy,
      candidateProxy,
      pgProxy,
      redis,
      redis?.url ?? REDIS_URL,
      prefix,
      clock,
      epochMs,
      webhookServer,
      deliveries,
      config,
    );
    try {
      const n = opts.nodes ?? 2;
      const started = await Promise.all(
        Array.from({ length: n }, (_, i) => startNode(`node${i}`, config, s.nodeEnv(), s.nodeClock())),
      );
      s.nodes.push(...started);
      await s.seed();
    } catch (e) {
      await s.close();
      throw e;
    }
    return s;
  }

  nodeEnv(): Record<string, string> {
    return {
      SWITCHYARD_DATABASE_URL: this.pgProxy ? this.pgProxy.urlFor(this.databaseUrl) : this.databaseUrl,
      SWITCHYARD_REDIS_URL: this.redisUrl,
      SWITCHYARD_ADMIN_TOKEN: TOKEN,
      SWITCHYARD_FAULT_WEBHOOK_SECRET: 'fault-webhook-secret',
    };
  }

  nodeClock() {
    return { timeScale: this.opts.timeScale ?? 1, epochMs: this.epochMs };
  }

  /** Starts one more process with the scenario's configuration (e.g. to replace a killed one). */
  async addNode(): Promise<SwitchyardNode> {
    const node = await startNode(`node${this.nodes.length}`, this.config, this.nodeEnv(), this.nodeClock());
    this.nodes.push(node);
    return node;
  }

  liveNodes(): SwitchyardNode[] {
    return this.nodes.filter((n) => n.alive);
  }

  gatewayUrls(): string[] {
    return this.liveNodes().map((n) => n.url);
  }

  async admin<T = Json>(method: string, path: string, body?: unknown, node?: SwitchyardNode): Promise<T> {
    const target = node ?? this.liveNodes()[0];
    if (!target) throw new Error('no live Switchyard process');
    const res = await fetch(`${target.url}/admin/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} -> ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  async readyz(node: SwitchyardNode): Promise<{ status: string; down: string[] }> {
    const res = await fetch(`${node.url}/readyz`);
    return (await res.json()) as { status: string; down: string[] };
  }

  async status(node: SwitchyardNode): Promise<Json> {
    return this.admin<Json>('GET', '/status', undefined, node);
  }

  private async seed(): Promise<void> {
    const model = { channel: CHANNEL, providerKind: 'openai-compatible' };
    await this.admin('POST', '/models', {
      ...model,
      id: STABLE,
      upstreamModel: 'sim-stable',
      endpoint: this.stableProxy.urlFor(`${this.sim.url}/v1`),
      lifecycle: 'active',
    });
    await this.admin('POST', '/models', {
      ...model,
      id: CANDIDATE,
      upstreamModel: 'sim-candidate',
      endpoint: this.candidateProxy.urlFor(`${this.sim.url}/v1`),
    });
    const plan = this.opts.plan;
    await this.admin('POST', '/groups', {
      id: 'faults',
      name: 'Fault tests',
      rank: 5,
      plan: {
        stages: plan.stages.map((st) => ({ ...st, approvals: [] })),
        betsThresholds: { toolCall: 0.9, format: 0.9, semantic: 0.8 },
        shadowHours: plan.shadowHours ?? 0,
        minDurationHours: plan.minDurationHours ?? 0,
      },
    });
    for (const t of this.opts.tenants) {
      await this.admin('POST', '/tenants', {
        id: t.id,
        name: `Tenant ${t.id}`,
        rolloutGroup: 'faults',
        ...(t.failurePolicy ? { failurePolicy: t.failurePolicy } : {}),
        ...(t.actionPolicy ? { actionPolicy: t.actionPolicy } : {}),
      });
      const key = await this.admin<{ secret: string }>('POST', `/tenants/${t.id}/keys`, {});
      await this.admin('POST', `/tenants/${t.id}/channels`, { channel: CHANNEL, stableVersionId: STABLE });
      this.tenants.push({ id: t.id, apiKey: key.secret });
    }
    await this.waitForSnapshots();
  }

  /** Until every live process routes with the registry's latest version. */
  async waitForSnapshots(timeoutMs = 15_000): Promise<void> {
    await this.waitFor(
      async () => {
        const all = await Promise.all(this.liveNodes().map((n) => this.status(n)));
        const target = Math.max(...all.map((s) => Number(s.registryVersion ?? 0)));
        return all.every((s) => Number(s.snapshotVersion) >= target);
      },
      timeoutMs,
      'every process has the latest routing snapshot',
    );
  }

  /** Starts the upgrade a-01 -> a-02 on the channel for every tenant of the scenario. */
  async startUpgrade(): Promise<string> {
    const s = await this.admin<{ upgrade: { id: string } }>('POST', '/upgrades', {
      channel: CHANNEL,
      fromVersionId: STABLE,
      toVersionId: CANDIDATE,
      reason: 'fault test',
    });
    this.upgradeId = s.upgrade.id;
    return this.upgradeId;
  }

  /**
   * Starts the upgrade and waits until every tenant is in its first canary stage and every live
   * process routes by the snapshot that says so: where each fault test begins.
   */
  async startUpgradeToCanary(): Promise<string> {
    const id = await this.startUpgrade();
    await this.waitForPhase('canary', 0);
    await this.waitForSnapshots();
    return id;
  }

  async rolloutList(): Promise<TenantRollout[]> {
    return this.rollouts.listRollouts({ upgradeId: this.upgradeId });
  }

  async rolloutOf(tenantId: string): Promise<TenantRollout> {
    const [r] = await this.rollouts.listRollouts({ upgradeId: this.upgradeId, tenantId });
    if (!r) throw new Error(`no rollout for ${tenantId}`);
    return r;
  }

  /** Until every tenant's rollout is in `phase` (and `stage`, counted from 0, when given). */
  async waitForPhase(phase: string, stage?: number, timeoutMs = 20_000, tenants?: string[]): Promise<void> {
    await this.waitFor(
      async () => {
        const rs = (await this.rolloutList()).filter((r) => !tenants || tenants.includes(r.tenantId));
        return (
          rs.length > 0 && rs.every((r) => r.phase === phase && (stage === undefined || r.stage === stage))
        );
      },
      timeoutMs,
      `every rollout in ${phase}${stage === undefined ? '' : `(${stage + 1})`}`,
    );
  }

  async waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string, everyMs = 100): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown = null;
    for (;;) {
      try {
        if (await cond()) return;
        last = null;
      } catch (e) {
        last = e;
      }
      const crashed = this.nodes.find((n) => n.crash !== null);
      if (crashed) throw new Error(`${crashed.name} (pid ${crashed.pid}) ${crashed.crash}`);
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting until ${what}${last ? `: ${String(last)}` : ''}`,
        );
      }
      await sleep(everyMs);
    }
  }

  // ---- what the database holds ------------------------------------------------------------

  /** Telemetry events per session id, for sessions whose id starts with `prefix`. */
  async eventsBySession(prefix: string): Promise<Map<string, number>> {
    const rows = await this.db.all<{ session_id: string; n: number }>(
      'SELECT session_id, COUNT(*) AS n FROM telemetry_events WHERE session_id LIKE ? GROUP BY session_id',
      [`${prefix}-%`],
    );
    return new Map(rows.map((r) => [r.session_id, Number(r.n)]));
  }

  async eventCount(prefix: string, where = '1 = 1'): Promise<number> {
    const row = await this.db.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM telemetry_events WHERE session_id LIKE ? AND ${where}`,
      [`${prefix}-%`],
    );
    return Number(row?.n ?? 0);
  }

  async storedRequestIds(prefix: string): Promise<Set<string>> {
    const rows = await this.db.all<{ request_id: string }>(
      'SELECT request_id FROM telemetry_events WHERE session_id LIKE ?',
      [`${prefix}-%`],
    );
    return new Set(rows.map((r) => r.request_id));
  }

  /**
   * Records every status write of every rollout from now on, in a table of the test's own
   * database (a trigger): the controller overwrites its status, the history keeps each version,
   * so a test can read the decision a transition rested on.
   */
  async captureRolloutHistory(): Promise<void> {
    await this.db.run(`CREATE TABLE fault_rollout_history (
      captured_at_ms DOUBLE PRECISION NOT NULL DEFAULT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000),
      tenant_id TEXT NOT NULL, phase TEXT NOT NULL, stage INTEGER NOT NULL, rollback_step TEXT,
      control TEXT, version INTEGER NOT NULL)`);
    await this.db.run(`CREATE FUNCTION fault_capture_rollout() RETURNS trigger AS $$
      BEGIN
        INSERT INTO fault_rollout_history (tenant_id, phase, stage, rollback_step, control, version)
        VALUES (NEW.tenant_id, NEW.phase, NEW.stage, NEW.rollback_step, NEW.control, NEW.version);
        RETURN NEW;
      END $$ LANGUAGE plpgsql`);
    await this.db.run(`CREATE TRIGGER fault_capture AFTER INSERT OR UPDATE ON tenant_rollouts
      FOR EACH ROW EXECUTE FUNCTION fault_capture_rollout()`);
  }

  /** Every status version of a tenant's rollout written since `captureRolloutHistory`, in order. */
  async rolloutHistory(tenantId: string): Promise<
    Array<{
      capturedAtMs: number;
      phase: string;
      stage: number;
      control: RolloutControl | null;
      version: number;
    }>
  > {
    const rows = await this.db.all<{
      captured_at_ms: number;
      phase: string;
      stage: number;
      control: string | null;
      version: number;
    }>(
      'SELECT captured_at_ms, phase, stage, control, version FROM fault_rollout_history WHERE tenant_id = ? ORDER BY version',
      [tenantId],
    );
    return rows.map((r) => ({
      capturedAtMs: Number(r.captured_at_ms),
      phase: r.phase,
      stage: Number(r.stage),
      control: r.control ? decodeJson<RolloutControl>(r.control) : null,
      version: Number(r.version),
    }));
  }

  /** Requests folded into the per-minute rollups of the scenario's tenants (every writer, every flush). */
  async rollupRequests(where = '1 = 1'): Promise<number> {
    const row = await this.db.get<{ n: number | null }>(
      `SELECT SUM(requests) AS n FROM telemetry_rollups WHERE ${where}`,
    );
    return Number(row?.n ?? 0);
  }

  async controllerAudit(): Promise<
    Array<{ entity_kind: string; entity_id: string; reason: string; action: string }>
  > {
    return this.db.all(
      "SELECT entity_kind, entity_id, reason, action FROM audit_log WHERE actor = 'controller' ORDER BY seq",
    );
  }

  async rolloutEvents(): Promise<
    Array<{ rollout_id: string | null; action: string; detail: string | null; at_ms: number }>
  > {
    return this.db.all(
      'SELECT rollout_id, action, detail, at_ms FROM rollout_events WHERE upgrade_id = ? ORDER BY seq',
      [this.upgradeId],
    );
  }

  async lease(): Promise<{ holder: string; fencing: number; expires_at_ms: number } | undefined> {
    return this.db.get(
      "SELECT holder, fencing, expires_at_ms FROM controller_leases WHERE name = 'rollout-controller'",
    );
  }

  /** The live node holding the controller lease (its holder id names the pid). */
  async leader(): Promise<SwitchyardNode | undefined> {
    const l = await this.lease();
    if (!l || Number(l.expires_at_ms) < this.clock.now()) return undefined;
    return this.liveNodes().find((n) => l.holder.split(':')[1] === String(n.pid));
  }

  async incidents(): Promise<Array<{ id: string; rollout_id: string; tenant_id: string; kind: string }>> {
    return this.db.all('SELECT id, rollout_id, tenant_id, kind FROM incidents WHERE upgrade_id = ?', [
      this.upgradeId,
    ]);
  }

  /** The controller's notification outbox (one row per notification and webhook endpoint). */
  async notifications(): Promise<
    Array<{ notificationId: string; event: string; state: string; tenantId: string | null }>
  > {
    const rows = await this.db.all<{
      notification_id: string;
      event: string;
      state: string;
      notification: string;
    }>(
      'SELECT notification_id, event, state, notification FROM notification_deliveries ORDER BY created_at_ms',
    );
    return rows.map((r) => ({
      notificationId: r.notification_id,
      event: r.event,
      state: r.state,
      tenantId: (JSON.parse(r.notification) as { tenantId: string | null }).tenantId,
    }));
  }

  /** Stops every process (SIGTERM: each flushes its telemetry and rollups before exiting). */
  async stopNodes(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill().catch(() => {})));
    await this.sim.close().catch(() => {});
    await this.stableProxy.close().catch(() => {});
    await this.candidateProxy.close().catch(() => {});
    await this.pgProxy?.close().catch(() => {});
    await this.redis?.stop().catch(() => {});
    if (this.webhookServer) await new Promise<void>((r) => this.webhookServer?.close(() => r()));
    await this.db.close().catch(() => {});
    await this.dropDatabase().catch(() => {});
  }

  /** The last log lines of every process, for a failure message. */
  logs(lines = 20): string {
    return this.nodes
      .map((n) => `--- ${n.name} (pid ${n.pid})\n${n.logs.slice(-lines).join('\n')}`)
      .join('\n');
  }
}

async function startWebhookReceiver(into: WebhookDelivery[]): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        into.push({
          event: String(req.headers['x-switchyard-event'] ?? ''),
          delivery: String(req.headers['x-switchyard-delivery'] ?? ''),
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json,
        });
      } catch {
        // not a notification
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return server;
}
