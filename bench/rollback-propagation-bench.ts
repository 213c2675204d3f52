/**
 * Rollback propagation across a scaled deployment: three gateway processes and a control-plane
 * process sharing PostgreSQL and Redis. The rollback's first step (freeze: the tenant's canary
 * percentage set to 0 on its channel binding, the registry write the controller makes) is taken on
 * the control-plane process; we measure, from the moment that write returns, how long until every
 * gateway routes a NEW session to stable, observed through real requests (`x-switchyard-cohort`).
 *
 *   - switchyard: gateways on Redis pub/sub + version key (the scaled configuration);
 *   - baseline:   gateways with database polling only (2 s, the fallback when Redis is down),
 *                 in the same run, for the ratio.
 *
 * Target (issue #6): under 1 s at p99. Run: npx tsx bench/rollback-propagation-bench.ts [--rounds 30]
 */
import { writeFileSync } from 'node:fs';
import { startSimulator } from '../src/simulator/index.js';
import { freshPostgresDatabase } from '../src/test-support/postgres.js';
import { REDIS_URL, uniquePrefix } from '../src/test-support/redis.js';
import { adminCall, type ServerProcess, startServerProcess } from '../src/test-support/server-process.js';

const ROUNDS = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 30;
const TOKEN = 'sya-rollback-bench-token-00000000';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
};

let sessionSeq = 0;
/** The cohort a brand-new session is routed to by this gateway. */
async function newSessionCohort(gateway: string, apiKey: string): Promise<string | null> {
  const res = await fetch(`${gateway}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
      'x-session-id': `bench-${process.pid}-${++sessionSeq}`,
    },
    body: JSON.stringify({
      model: 'assistant',
      messages: [{ role: 'user', content: 'hello' }],
      max_tokens: 8,
    }),
  });
  await res.arrayBuffer();
  return res.headers.get('x-switchyard-cohort');
}

/** Polls every gateway with new sessions until all route to `want`; ms from `since` per gateway. */
async function waitAll(
  gateways: ServerProcess[],
  apiKey: string,
  want: string,
  since: number,
): Promise<number[]> {
  const out: number[] = new Array(gateways.length).fill(-1);
  await Promise.all(
    gateways.map(async (g, i) => {
      for (;;) {
        if ((await newSessionCohort(g.url, apiKey)) === want) {
          out[i] = performance.now() - since;
          return;
        }
        if (performance.now() - since > 30_000) throw new Error(`gateway ${i} never routed to ${want}`);
      }
    }),
  );
  return out;
}

async function setup(redis: boolean) {
  const db = await freshPostgresDatabase();
  const prefix = uniquePrefix();
  const env = {
    SWITCHYARD_DATABASE_URL: db.url,
    SWITCHYARD_REDIS_URL: REDIS_URL,
    SWITCHYARD_ADMIN_TOKEN: TOKEN,
  };
  const config = {
    server: { port: 0 },
    storage: { driver: 'postgres' },
    log: { level: 'info' },
    cache: redis ? { driver: 'redis', prefix } : { driver: 'memory' },
    // The scaled configuration relies on Redis; the baseline on the database check (default 2 s).
    snapshot: redis ? { storeCheckIntervalMs: 600_000 } : {},
  };
  const control = await startServerProcess(config, env);
  const gateways = await Promise.all([0, 1, 2].map(() => startServerProcess(config, env)));
  return { db, control, gateways };
}

async function seed(control: string, simUrl: string): Promise<string> {
  const call = async (method: string, path: string, body: unknown) => {
    const r = await adminCall<Record<string, unknown>>(control, TOKEN, method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const model = { channel: 'assistant', providerKind: 'openai-compatible', endpoint: `${simUrl}/v1` };
  await call('POST', '/models', { ...model, id: 'a-01', upstreamModel: 'sim-01', lifecycle: 'active' });
  await call('POST', '/models', { ...model, id: 'a-02', upstreamModel: 'sim-02' });
  await call('POST', '/tenants', { id: 'bench', name: 'Bench' });
  const key = (await call('POST', '/tenants/bench/keys', {})) as { secret: string };
  await call('POST', '/tenants/bench/channels', {
    channel: 'assistant',
    stableVersionId: 'a-01',
    candidateVersionId: 'a-02',
    canaryPercent: 100,
  });
  return key.secret;
}

async function measure(redis: boolean, simUrl: string): Promise<number[]> {
  const { db, control, gateways } = await setup(redis);
  const delays: number[] = [];
  try {
    const apiKey = await seed(control.url, simUrl);
    await waitAll(gateways, apiKey, 'canary', performance.now());
    for (let i = 0; i < ROUNDS; i++) {
      const r = await adminCall(control.url, TOKEN, 'PATCH', '/tenants/bench/channels/assistant', {
        canaryPercent: 0,
        reason: 'rollback: freeze new sessions onto the candidate',
      });
      if (r.status !== 200) throw new Error(`freeze failed: ${JSON.stringify(r.body)}`);
      const since = performance.now();
      delays.push(Math.max(...(await waitAll(gateways, apiKey, 'stable', since))));
      await adminCall(control.url, TOKEN, 'PATCH', '/tenants/bench/channels/assistant', {
        canaryPercent: 100,
      });
      await waitAll(gateways, apiKey, 'canary', performance.now());
      // Sample the baseline's polling phase evenly rather than always right after its check.
      await new Promise((res) => setTimeout(res, Math.random() * 2000));
    }
  } finally {
    await Promise.all([control.stop(), ...gateways.map((g) => g.stop())]);
    await db.drop();
  }
  return delays;
}

async function main() {
  const sim = await startSimulator({ seed: 1, models: { 'sim-01': {}, 'sim-02': {} } });
  try {
    const switchyard = await measure(true, sim.url);
    const baseline = await measure(false, sim.url);
    const row = (name: string, xs: number[]) => ({
      setup: name,
      p50Ms: +pct(xs, 50).toFixed(1),
      p99Ms: +pct(xs, 99).toFixed(1),
      maxMs: +Math.max(...xs).toFixed(1),
    });
    const rows = [row('switchyard (Redis)', switchyard), row('baseline (DB polling)', baseline)];
    const ratio = {
      p50: +(pct(baseline, 50) / Math.max(1, pct(switchyard, 50))).toFixed(1),
      p99: +(pct(baseline, 99) / Math.max(1, pct(switchyard, 99))).toFixed(1),
    };
    console.table(rows);
    console.log(
      `every one of 3 gateways routes new sessions to stable: p99 ${rows[0]?.p99Ms} ms (target < 1000); baseline/switchyard p50 x${ratio.p50}, p99 x${ratio.p99} (${ROUNDS} rollbacks)`,
    );
    writeFileSync(
      new URL('./results/rollback-propagation.json', import.meta.url),
      `${JSON.stringify({ rounds: ROUNDS, gateways: 3, rows, ratio, targetP99Ms: 1000, at: new Date().toISOString() }, null, 2)}\n`,
    );
  } finally {
    await sim.close();
  }
}

await main();
