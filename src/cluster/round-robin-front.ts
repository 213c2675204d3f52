import { connect, createServer, type Server, type Socket } from 'node:net';
import type { ClusterLog } from './supervisor.js';

export interface Upstream {
  host: string;
  port: number;
}

export interface RoundRobinFrontOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The upstreams to balance over now (read on every connection, so restarts are followed). */
  upstreams: () => Upstream[];
  log: ClusterLog;
  /** An upstream that does not accept within this long is skipped for this connection. */
  connectTimeoutMs?: number;
}

/** `http://127.0.0.1:8081` -> host and port. */
export function upstreamOf(url: string): Upstream {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) };
}

/**
 * A small TCP front for one machine: each client connection goes to the next upstream in turn
 * (round robin per connection, like a layer-4 load balancer), bytes are relayed both ways
 * untouched. An upstream that refuses the connection is skipped and the next one tried, so a
 * gateway being restarted costs nothing but that attempt. It balances connections, not requests:
 * a keep-alive client stays on one gateway; sessions stay on their version whatever gateway they
 * reach, because every gateway reads the same session pins in Redis. A real deployment puts its
 * own load balancer here (docs/scaled-deployment.md).
 */
export class RoundRobinFront {
  private server: Server | null = null;
  private next = 0;
  private readonly sockets = new Set<Socket>();
  private readonly connectTimeoutMs: number;

  constructor(private readonly opts: RoundRobinFrontOptions) {
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 2_000;
  }

  /** Starts accepting; resolves to the address it listens on. */
  listen(): Promise<Upstream> {
    const server = createServer({ pauseOnConnect: true }, (client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        const a = server.address();
        resolve({ host: this.opts.host, port: typeof a === 'object' && a ? a.port : this.opts.port });
      });
    });
  }

  /** Stops accepting and drops the connections in flight. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
  }

  private accept(client: Socket): void {
    this.track(client);
    client.on('error', () => {});
    const upstreams = this.opts.upstreams();
    if (upstreams.length === 0) {
      this.opts.log.warn({}, 'no gateway is listening; connection dropped');
      client.destroy();
      return;
    }
    const start = this.next++ % upstreams.length;
    this.tryUpstream(client, upstreams, start, 0);
  }

  private tryUpstream(client: Socket, upstreams: Upstream[], start: number, attempt: number): void {
    if (client.destroyed) return;
    if (attempt >= upstreams.length) {
      this.opts.log.warn({ tried: upstreams.length }, 'no gateway accepted the connection; dropped');
      client.destroy();
      return;
    }
    const target = upstreams[(start + attempt) % upstreams.length] as Upstream;
    const upstream = connect({ host: target.host, port: target.port });
    this.track(upstream);
    let connected = false;
    const timer = setTimeout(() => upstream.destroy(new Error('connect timeout')), this.connectTimeoutMs);
    upstream.once('connect', () => {
      clearTimeout(timer);
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      connected = true;
      upstream.setNoDelay(true);
      client.setNoDelay(true);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on('error', () => {
      clearTimeout(timer);
      if (connected) {
        client.destroy();
        return;
      }
      upstream.destroy();
      this.tryUpstream(client, upstreams, start, attempt + 1);
    });
    // A clean close of either side ends the other once what it holds is written (pipe ends it too).
    upstream.once('close', () => {
      clearTimeout(timer);
      if (connected && !client.destroyed) client.end();
    });
    client.once('close', () => {
      if (connected) upstream.destroy();
    });
  }
}
