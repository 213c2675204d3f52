import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { SqlParam } from '../storage/sql-database.js';
import { CHUNK, EVENT_COLUMNS, eventParams } from './sql-telemetry-store.js';
import type { TelemetryEvent, TelemetryEventStore } from './telemetry-event.js';

/**
 * The writer thread. Plain JavaScript evaluated by `new Worker(..., { eval: true })`: the same
 * source then runs under tsx, under Vitest and from the built output, which share no module
 * loader a `.ts` worker file could rely on. It owns its own connection to the database file (WAL
 * lets it write beside the main thread's connection; both take the write lock with
 * `BEGIN IMMEDIATE` and wait on each other through busy_timeout) and writes each batch in one
 * transaction, exactly as `SqlTelemetryEventStore` does.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const width = workerData.columns.length;
const row = '(' + workerData.columns.map(() => '?').join(', ') + ')';
const head = 'INSERT INTO telemetry_events (' + workerData.columns.join(', ') + ') VALUES ';
const statements = new Map();
function insert(rows) {
  let s = statements.get(rows);
  if (!s) {
    s = db.prepare(head + new Array(rows).fill(row).join(', '));
    statements.set(rows, s);
  }
  return s;
}
parentPort.on('message', (m) => {
  if (m.type === 'close') {
    db.close();
    parentPort.postMessage({ type: 'closed' });
    return;
  }
  try {
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const chunk of m.chunks) insert(chunk.length / width).run(chunk);
      db.exec('COMMIT');
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw e;
    }
    parentPort.postMessage({ type: 'done', id: m.id, ok: true });
  } catch (e) {
    parentPort.postMessage({ type: 'done', id: m.id, ok: false, error: String((e && e.message) || e) });
  }
});
`;

type Reply = { type: 'done'; id: number; ok: boolean; error?: string } | { type: 'closed' };

interface Waiting {
  resolve(): void;
  reject(err: Error): void;
}

/**
 * Telemetry events written to an SQLite file from a worker thread, so the gateway's event loop
 * only flattens each batch into column values and posts them (about half a microsecond per event)
 * while the INSERTs, the commit and WAL checkpoints (several microseconds per event) run on
 * another core. `append` resolves once the batch is committed and rejects if it was not, so the
 * batching sink's written/failed counts and the observers' `stored` flag mean what they did.
 *
 * A worker that dies fails the batches it held and is replaced on the next append. Only for a
 * database file: `:memory:` is private to one connection, so it keeps `SqlTelemetryEventStore`.
 */
export class SqliteWorkerTelemetryStore implements TelemetryEventStore {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly onWorkerError: (err: unknown) => void = () => {},
  ) {
    if (path === ':memory:') throw new Error('a worker cannot share an in-memory SQLite database');
    // Started now rather than on the first batch, so the first events wait for no thread start.
    this.ensureWorker();
  }

  append(events: readonly TelemetryEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('the telemetry writer is closed'));
    const chunks: SqlParam[][] = [];
    for (let i = 0; i < events.length; i += CHUNK) {
      const values: SqlParam[] = [];
      const end = Math.min(events.length, i + CHUNK);
      for (let j = i; j < end; j++) eventParams(events[j] as TelemetryEvent, values);
      chunks.push(values);
    }
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // Keep the process alive only while a write is in flight.
      if (this.waiting.size === 1) worker.ref();
      worker.postMessage({ type: 'write', id, chunks });
    });
  }

  /** Waits for writes in flight, then closes the worker's connection and ends the thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    // Messages are handled in order: every write posted before this one is answered first.
    await new Promise<void>((resolve) => {
      const onMessage = (m: Reply) => {
        if (m.type !== 'closed') return;
        worker.off('message', onMessage);
        resolve();
      };
      worker.on('message', onMessage);
      worker.once('exit', () => resolve());
      worker.ref();
      worker.postMessage({ type: 'close' });
    });
    await worker.terminate();
    this.worker = null;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        path: this.path,
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        columns: EVENT_COLUMNS,
      },
    });
    worker.unref();
    worker.on('message', (m: Reply) => {
      if (m.type !== 'done') return;
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) worker.unref();
      if (m.ok) w.resolve();
      else w.reject(new Error(m.error ?? 'telemetry write failed'));
    });
    worker.on('error', (err) => this.onWorkerError(err));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = null;
      const err = new Error(`the telemetry writer thread exited (code ${code}) before confirming the write`);
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    });
    this.worker = worker;
    return worker;
  }
}
