import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.SWITCHYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const REQUIRED = process.env.SWITCHYARD_REQUIRE_REDIS === '1';

/**
 * Whether the Redis tests can run. Unreachable Redis skips them with a message, unless
 * SWITCHYARD_REQUIRE_REDIS=1, where it is an error (CI must not skip silently).
 */
export async function redisAvailable(): Promise<boolean> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch (e) {
    if (REQUIRED)
      throw new Error(
        `Redis at ${REDIS_URL} is required (SWITCHYARD_REQUIRE_REDIS=1) but unreachable: ${String(e)}`,
      );
    console.warn(
      `skipping Redis tests: no Redis at ${REDIS_URL} (set SWITCHYARD_TEST_REDIS_URL, or SWITCHYARD_REQUIRE_REDIS=1 to fail)`,
    );
    return false;
  } finally {
    client.disconnect();
  }
}

/** A TCP proxy in front of Redis that a test can cut and restore, to play an outage. */
export class FlakyProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: URL) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(Number(this.target.port || 6379), this.target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

/** Polls `check` until it is true (bounded): for state reached through reconnects, not timing. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, limitMs = 10_000) {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${limitMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
