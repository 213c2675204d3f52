import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A fault-injecting TCP proxy for tests: put it between Switchyard and a server (PostgreSQL, a
 * provider) and make that server disappear or hang for the processes behind it, without touching
 * the server itself.
 *
 * Why a proxy rather than stopping the server: the PostgreSQL and Redis servers of a test run are
 * shared by every suite, and Vitest runs test files in parallel; stopping them would fail the
 * other suites. The proxy takes the server away only from the processes that connect through it.
 *
 * Modes:
 *   - `up`: bytes flow both ways.
 *   - `down`: open connections are destroyed and new ones are accepted and closed at once (the
 *     client sees a reset, as with a crashed server). The port stays bound, so nothing else can
 *     take it while the server is "down" and `up()` restores the same address.
 *   - `blackhole`: new connections are accepted and never answered; bytes on open connections are
 *     dropped, so requests in flight hang (a provider that stops answering).
 */
export type ProxyMode = 'up' | 'down' | 'blackhole';

export interface FaultProxyStats {
  mode: ProxyMode;
  /** Connections accepted and forwarded. */
  forwarded: number;
  /** Connections closed at once while down. */
  refused: number;
  /** Connections accepted and held silent while blackholed. */
  held: number;
  /** Forwarded connections the proxy destroyed when going down. */
  destroyed: number;
  /** Forwarded connections open now. */
  open: number;
  /** Bytes sent from the target to clients, and from clients to the target. */
  bytesFromTarget: number;
  bytesToTarget: number;
  /** Time of the last byte from the target (ms since epoch), or null. */
  lastFromTargetMs: number | null;
}

interface Pair {
  client: Socket;
  upstream: Socket | null;
}

export class FaultProxy {
  private modeNow: ProxyMode = 'up';
  private readonly pairs = new Set<Pair>();
  private readonly silent = new Set<Socket>();
  private readonly counts = {
    forwarded: 0,
    refused: 0,
    held: 0,
    destroyed: 0,
    bytesFromTarget: 0,
    bytesToTarget: 0,
    lastFromTargetMs: null as number | null,
  };

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  /** Starts a proxy on a free port of 127.0.0.1 in front of `target`. */
  static async start(target: { host: string; port: number }): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined;
    const server = createServer((socket) => proxy?.accept(socket));
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : 0);
      });
    });
    proxy = new FaultProxy(server, port, target);
    return proxy;
  }

  /** A URL like `base` (e.g. a postgres:// or http:// URL) with its host and port replaced by the proxy's. */
  urlFor(base: string): string {
    const u = new URL(base);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  get mode(): ProxyMode {
    return this.modeNow;
  }

  up(): void {
    this.modeNow = 'up';
    // Connections held while blackholed never got an upstream; close them so clients reconnect.
    for (const s of this.silent) s.destroy();
    this.silent.clear();
  }

  down(): void {
    this.modeNow = 'down';
    for (const p of this.pairs) {
      this.counts.destroyed++;
      p.client.destroy();
      p.upstream?.destroy();
    }
    this.pairs.clear();
    for (const s of this.silent) s.destroy();
    this.silent.clear();
  }

  blackhole(): void {
    this.modeNow = 'blackhole';
  }

  stats(): FaultProxyStats {
    return { mode: this.modeNow, ...this.counts, open: this.pairs.size };
  }

  async close(): Promise<void> {
    this.down();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    client.on('error', () => {});
    if (this.modeNow === 'down') {
      this.counts.refused++;
      client.destroy();
      return;
    }
    if (this.modeNow === 'blackhole') {
      this.counts.held++;
      this.silent.add(client);
      client.on('data', () => {});
      client.once('close', () => this.silent.delete(client));
      return;
    }
    this.counts.forwarded++;
    const pair: Pair = { client, upstream: null };
    this.pairs.add(pair);
    const upstream = connect(this.target.port, this.target.host);
    pair.upstream = upstream;
    upstream.on('error', () => {});
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.once('close', end);
    upstream.once('close', end);
    this.forward(client, upstream, (n) => {
      this.counts.bytesToTarget += n;
    });
    this.forward(upstream, client, (n) => {
      this.counts.bytesFromTarget += n;
      this.counts.lastFromTargetMs = Date.now();
    });
  }

  /** Copies bytes with backpressure; while blackholed they are dropped, so the peer hears nothing. */
  private forward(from: Socket, to: Socket, count: (n: number) => void): void {
    from.on('data', (chunk: Buffer) => {
      if (this.modeNow === 'blackhole') return;
      count(chunk.length);
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.once('end', () => to.end());
  }
}
