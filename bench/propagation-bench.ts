/**
 * Registry change propagation between processes sharing PostgreSQL and Redis.
 *
 * One writer process takes admin changes; two reader processes watch the same registry:
 *   - switchyard: Redis pub/sub + version key (the scaled configuration);
 *   - baseline:   no Redis, database version polling only (every 2 s, the default fallback).
 * For each change we measure, from the moment the write's response arrives, how long until each
 * reader's routing snapshot holding the new registry version was built: the reader reports the
 * build time (`snapshotBuiltAt` in /admin/v1/status; same machine, same clock), so the polling
 * used to find out adds nothing to the figure.
 *
 * Run: npx tsx bench/propagation-bench.ts [--changes 30]   (needs PostgreSQL and Redis)
 */
import { writeFileSync } from 'node:fs';
import { freshPostgresDatabase } from '../src/test-support/postgres.js';
import { REDIS_URL, uniquePrefix } from '../src/test-support/redis.js';
import { adminCall, startServerProcess } from '../src/test-support/server-process.js';

const CHANGES = Number(process.argv[process.argv.indexOf('--changes') + 1]) || 30;
const TOKEN = 'sya-propagation-bench-token-0000';

interface Status {
  registryVersion: number;
  snapshotVersion: number;
  snapshotBuiltAt: string;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
};

async function main() {
  const db = await freshPostgresDatabase();
  const prefix = uniquePrefix();
  const env = {
    SWITCHYARD_DATABASE_URL: db.url,
    SWITCHYARD_REDIS_URL: REDIS_URL,
    SWITCHYARD_ADMIN_TOKEN: TOKEN,
  };
  const base = { server: { port: 0 }, storage: { driver: 'postgres' }, log: { level: 'info' } };
  const withRedis = {
    ...base,
    cache: { driver: 'redis', prefix },
    snapshot: { storeCheckIntervalMs: 600_000 },
  };
  const writer = await startServerProcess(withRedis, env);
  const readers = {
    switchyard: await startServerProcess(withRedis, env),
    baseline: await startServerProcess({ ...base, cache: { driver: 'memory' } }, env),
  };
  const delays: Record<keyof typeof readers, number[]> = { switchyard: [], baseline: [] };
  try {
    for (let i = 0; i < CHANGES; i++) {
      const r = await adminCall(writer.url, TOKEN, 'POST', '/tenants', {
        id: `bench-${i}`,
        name: `Bench ${i}`,
      });
      if (r.status !== 201) throw new Error(`write failed: ${JSON.stringify(r.body)}`);
      const written = Date.now();
      const started = performance.now();
      const target = (await adminCall<Status>(writer.url, TOKEN, 'GET', '/status')).body.registryVersion;
      const pending = new Set(Object.keys(readers) as (keyof typeof readers)[]);
      while (pending.size > 0) {
        for (const name of [...pending]) {
          const s = (await adminCall<Status>(readers[name].url, TOKEN, 'GET', '/status')).body;
          if (s.snapshotVersion >= target) {
            delays[name].push(Math.max(0, Date.parse(s.snapshotBuiltAt) - written));
            pending.delete(name);
          }
        }
        if (performance.now() - started > 30_000) throw new Error('a reader never caught up');
        await new Promise((res) => setTimeout(res, 2));
      }
      // Writing right after the baseline's poll would always catch it at the start of its period;
      // a random pause over the whole period samples its phase evenly.
      await new Promise((res) => setTimeout(res, Math.random() * 2000));
    }
  } finally {
    await Promise.all([writer.stop(), readers.switchyard.stop(), readers.baseline.stop()]);
    await db.drop();
  }
  const row = (name: keyof typeof readers) => ({
    reader: name,
    p50Ms: pct(delays[name], 50),
    p99Ms: pct(delays[name], 99),
    maxMs: Math.max(...delays[name]),
  });
  const rows = [row('switchyard'), row('baseline')];
  // Millisecond clock: a 0 ms figure counts as 1 ms in the ratio.
  const ratioOf = (k: 'p50Ms' | 'p99Ms') =>
    +((rows[1]?.[k] ?? 0) / Math.max(1, rows[0]?.[k] ?? 0)).toFixed(1);
  const ratio = { p50: ratioOf('p50Ms'), p99: ratioOf('p99Ms') };
  console.table(rows);
  console.log(`baseline / switchyard: p50 x${ratio.p50}, p99 x${ratio.p99} (${CHANGES} changes)`);
  writeFileSync(
    new URL('./results/propagation.json', import.meta.url),
    `${JSON.stringify({ changes: CHANGES, rows, ratio, at: new Date().toISOString() }, null, 2)}\n`,
  );
}

await main();
