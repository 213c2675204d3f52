import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy } from '../test-support/faults/fault-proxy.js';
import { PG_URL, postgresAvailable } from '../test-support/postgres.js';
import { PostgresDatabase } from './postgres-database.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgresDatabase when the connection is lost', () => {
  let proxy: FaultProxy;
  let db: PostgresDatabase;
  beforeAll(async () => {
    const u = new URL(PG_URL);
    // Between the adapter and the shared server, so only this adapter loses its connections.
    proxy = await FaultProxy.start({ host: u.hostname, port: Number(u.port || 5432) });
    db = new PostgresDatabase({ url: proxy.urlFor(PG_URL), maxConnections: 2 });
  });
  afterAll(async () => {
    await db?.close();
    await proxy?.close();
  });

  it('fails a transaction whose connection drops between two statements, without crashing, and recovers', async () => {
    const uncaught: unknown[] = [];
    const record = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', record);
    try {
      await expect(
        db.transaction(async (tx) => {
          await tx.all('SELECT 1 AS one');
          proxy.down(); // the client is checked out and idle: no query to fail, only the socket
          await new Promise((r) => setTimeout(r, 100));
          return tx.all('SELECT 2 AS two');
        }),
      ).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 50));
      expect(uncaught).toEqual([]);
      proxy.up();
      expect(await db.ping()).toBe(true);
      expect(await db.transaction((tx) => tx.get<{ n: number }>('SELECT 3 AS n'))).toEqual({ n: 3 });
    } finally {
      process.off('uncaughtException', record);
      proxy.up();
    }
  });
});
