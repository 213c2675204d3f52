/**
 * Telemetry ingest: events per second written with no loss, on one Node process (one core), for
 * each backend, through the real path the gateway uses:
 *
 *   switchyard: BatchingSink (the gateway's defaults: 50 000 ring, 1 000 per batch, 1 s) →
 *               ObservedTelemetryStore(SqlTelemetryEventStore) → RollupAggregator (flushing every
 *               second; all event minutes are already closed, so every tick writes rollups)
 *   baseline:   the same events written with SqlTelemetryEventStore.append in batches of 1 000
 *               (raw multi-row INSERTs, no sink, no rollups)
 *
 * And, on SQLite, what the event loop pays per event when the INSERTs run in place
 * (SqlTelemetryEventStore) against when they run on the writer thread
 * (SqliteWorkerTelemetryStore, as `serve` wires an SQLite file): main-thread CPU time per event,
 * from /proc, the same events on fresh databases in the same run.
 *
 * The producer pushes as fast as the sink drains without dropping (it waits while the ring is
 * more than half full), so the figure is throughput with no loss, and the run fails unless the
 * stored event count, and the rollups' request total, equal the pushed count with zero drops.
 * Rounds alternate baseline and switchyard on fresh databases; medians are reported.
 *
 * Run: npx tsx bench/telemetry-ingest-bench.ts [--events 100000] [--rounds 3]  (PostgreSQL optional)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/shared/clock.js';
import { migrate } from '../src/storage/migrations.js';
import { PostgresDatabase } from '../src/storage/postgres-database.js';
import { MIGRATIONS } from '../src/storage/schema.js';
import type { SqlDatabase } from '../src/storage/sql-database.js';
import { SqliteDatabase } from '../src/storage/sqlite-database.js';
import { BatchingSink } from '../src/telemetry/batching-sink.js';
import { ObservedTelemetryStore } from '../src/telemetry/observed-store.js';
import { RollupAggregator } from '../src/telemetry/rollups/rollup-aggregator.js';
import { SqlRollupStore } from '../src/telemetry/rollups/sql-rollup-store.js';
import { SqlTelemetryEventStore } from '../src/telemetry/sql-telemetry-store.js';
import { SqliteWorkerTelemetryStore } from '../src/telemetry/sqlite-worker-telemetry-store.js';
import type { TelemetryEvent } from '../src/telemetry/telemetry-event.js';
import { freshPostgresDatabase, postgresAvailable } from '../src/test-support/postgres.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const EVENTS = arg('events', 100_000);
const ROUNDS = arg('rounds', 3);
const SINK = { capacity: 50_000, batchSize: 1_000, flushIntervalMs: 1_000 };

/** Realistic events: 50 tenants, a canary on a fifth of sessions, tool calls, spread over 10 minutes. */
function makeEvents(n: number): TelemetryEvent[] {
  const start = Math.floor(Date.now() / 60_000) * 60_000 - 12 * 60_000;
  return Array.from({ length: n }, (_, i) => {
    const canary = i % 5 === 0;
    const invalid = i % 37 === 0 ? 1 : 0;
    return {
      atMs: start + Math.floor((i / n) * 10 * 60_000),
      requestId: `req-${i}`,
      tenantId: `tenant-${i % 50}`,
      keyId: `key-${i % 50}`,
      sessionId: `sess-${i % 2000}`,
      channel: 'gpt-x',
      versionId: canary ? 'gpt-x-2026-03' : 'gpt-x-2026-01',
      cohort: canary ? 'canary' : 'stable',
      wire: 'openai',
      stream: i % 2 === 0,
      status: i % 211 === 0 ? 502 : 200,
      errorType: i % 211 === 0 ? 'upstream_502' : null,
      fallback: null,
      sessionReset: false,
      toolNames: ['get_weather'],
      latencyMs: 200 + ((i * 7919) % 3000),
      ttfbMs: 80 + ((i * 104729) % 400),
      inputTokens: 500,
      outputTokens: 120,
      promptHash: `h${i % 997}`,
      shadowed: false,
      taskId: null,
      toolCallsChecked: 1,
      toolCallsInvalid: invalid,
      invalidKinds: invalid ? ['type'] : [],
      toolCallsCoerced: 0,
      formatValid: null,
      policyAction: invalid ? 'error' : null,
    };
  });
}

interface Backend {
  name: 'sqlite' | 'postgres';
  open(): Promise<{ db: SqlDatabase; cleanup: () => Promise<void> }>;
}

const sqlite: Backend = {
  name: 'sqlite',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'sy-ingest-'));
    const db = new SqliteDatabase(join(dir, 'bench.db'));
    await migrate(db, MIGRATIONS);
    return {
      db,
      cleanup: async () => {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

const postgres: Backend = {
  name: 'postgres',
  async open() {
    const fresh = await freshPostgresDatabase();
    const db = new PostgresDatabase({ url: fresh.url, maxConnections: 4 });
    return {
      db,
      cleanup: async () => {
        await db.close();
        await fresh.drop();
      },
    };
  },
};

async function count(db: SqlDatabase): Promise<{ events: number; rollupRequests: number }> {
  const e = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM telemetry_events');
  const r = await db.get<{ n: number | null }>('SELECT SUM(requests) AS n FROM telemetry_rollups');
  return { events: Number(e?.n ?? 0), rollupRequests: Number(r?.n ?? 0) };
}

async function baseline(db: SqlDatabase, events: TelemetryEvent[]): Promise<number> {
  const store = new SqlTelemetryEventStore(db);
  const t = performance.now();
  for (let i = 0; i < events.length; i += SINK.batchSize)
    await store.append(events.slice(i, i + SINK.batchSize));
  const s = (performance.now() - t) / 1000;
  const c = await count(db);
  if (c.events !== events.length) throw new Error(`baseline stored ${c.events} of ${events.length}`);
  return events.length / s;
}

async function switchyard(
  db: SqlDatabase,
  events: TelemetryEvent[],
): Promise<{ perSecond: number; rollupRows: number }> {
  const rollups = new RollupAggregator(new SqlRollupStore(db), systemClock, {
    flushIntervalMs: 1_000,
    graceMs: 5_000,
  });
  const store = new ObservedTelemetryStore(new SqlTelemetryEventStore(db), (e) => {
    throw e;
  });
  store.add(rollups);
  const sink = new BatchingSink<TelemetryEvent>((b) => store.append(b), SINK);
  const t = performance.now();
  for (const e of events) {
    while (sink.stats().buffered > SINK.capacity / 2) await new Promise((r) => setImmediate(r));
    if (!sink.push(e)) throw new Error('the sink dropped an event');
  }
  await sink.close();
  await rollups.close();
  const s = (performance.now() - t) / 1000;
  const st = sink.stats();
  const rs = rollups.stats();
  if (st.dropped + st.failed > 0 || rs.droppedOpen + rs.droppedPending > 0 || rs.failedFlushes > 0) {
    throw new Error(`loss: sink ${JSON.stringify(st)} rollups ${JSON.stringify(rs)}`);
  }
  const c = await count(db);
  if (c.events !== events.length || c.rollupRequests !== events.length) {
    throw new Error(`stored ${c.events} events and ${c.rollupRequests} rollup requests of ${events.length}`);
  }
  return { perSecond: events.length / s, rollupRows: rs.rowsWritten };
}

/** utime + stime of this process's main thread, in seconds. */
function mainThreadCpuSeconds(): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Main-thread CPU µs per event of appending every event, in place or from the writer thread. */
async function mainThreadCost(
  where: 'in place' | 'writer thread',
  events: TelemetryEvent[],
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-ingest-'));
  const path = join(dir, 'bench.db');
  const db = new SqliteDatabase(path);
  await migrate(db, MIGRATIONS);
  const store = where === 'in place' ? new SqlTelemetryEventStore(db) : new SqliteWorkerTelemetryStore(path);
  try {
    const cpu0 = mainThreadCpuSeconds();
    for (let i = 0; i < events.length; i += SINK.batchSize)
      await store.append(events.slice(i, i + SINK.batchSize));
    const us = ((mainThreadCpuSeconds() - cpu0) * 1e6) / events.length;
    const c = await count(db);
    if (c.events !== events.length) throw new Error(`${where} stored ${c.events} of ${events.length}`);
    return us;
  } finally {
    if (store instanceof SqliteWorkerTelemetryStore) await store.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function main() {
  const started = performance.now();
  const events = makeEvents(EVENTS);
  const backends = [sqlite, ...((await postgresAvailable()) ? [postgres] : [])];
  const results: Record<string, unknown> = {};
  const ratios: Record<string, number> = {};
  for (const b of backends) {
    const base: number[] = [];
    const full: number[] = [];
    let rollupRows = 0;
    for (let r = 0; r < ROUNDS; r++) {
      for (const variant of r % 2 === 0 ? ['baseline', 'switchyard'] : ['switchyard', 'baseline']) {
        const { db, cleanup } = await b.open();
        try {
          if (variant === 'baseline') base.push(await baseline(db, events));
          else {
            const out = await switchyard(db, events);
            full.push(out.perSecond);
            rollupRows = out.rollupRows;
          }
        } finally {
          await cleanup();
        }
      }
    }
    results[b.name] = {
      'baseline: raw INSERT, no rollups': {
        eventsPerSecond: Math.round(median(base)),
        rounds: base.map(Math.round),
      },
      'switchyard: sink + store + rollups': {
        eventsPerSecond: Math.round(median(full)),
        rounds: full.map(Math.round),
        rollupRowsPerRun: rollupRows,
        storedEqualsPushed: true,
      },
    };
    ratios[`${b.name}: switchyard / baseline`] = median(full) / median(base);
    console.log(
      `${b.name}: baseline ${Math.round(median(base))} ev/s, switchyard ${Math.round(median(full))} ev/s (${(median(full) / median(base)).toFixed(2)}x), ${rollupRows} rollup rows per run`,
    );
  }
  // The event loop's share on SQLite: in place against the writer thread (more events, since
  // /proc counts CPU in 10 ms ticks).
  const many = makeEvents(EVENTS * 3);
  const inPlace: number[] = [];
  const writer: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const where of r % 2 === 0
      ? (['in place', 'writer thread'] as const)
      : (['writer thread', 'in place'] as const)) {
      (where === 'in place' ? inPlace : writer).push(await mainThreadCost(where, many));
    }
  }
  results['sqlite: main-thread CPU per event'] = {
    'in place (SqlTelemetryEventStore), µs': Math.round(median(inPlace) * 100) / 100,
    'writer thread (SqliteWorkerTelemetryStore), µs': Math.round(median(writer) * 100) / 100,
  };
  ratios['sqlite: main-thread CPU, writer thread / in place'] = median(writer) / median(inPlace);
  console.log(
    `sqlite main-thread CPU per event: in place ${median(inPlace).toFixed(2)} µs, writer thread ${median(writer).toFixed(2)} µs (${(median(writer) / median(inPlace)).toFixed(2)}x)`,
  );
  const out = {
    benchmark: 'telemetry-ingest',
    at: new Date().toISOString(),
    env: {
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      cpus: cpus().length,
      loadavg1m: loadavg()[0],
      events: EVENTS,
      rounds: ROUNDS,
      sink: SINK,
      note: 'one Node process; PostgreSQL runs as its own server process on the same machine',
      elapsedS: Math.round((performance.now() - started) / 100) / 10,
    },
    ratios,
    results,
  };
  writeFileSync(
    new URL('./results/telemetry-ingest.json', import.meta.url),
    `${JSON.stringify(out, null, 2)}\n`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
