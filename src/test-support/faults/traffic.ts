/**
 * A traffic driver for fault tests: agents holding multi-turn sessions with the gateways over the
 * OpenAI wire format (plain and streamed), started at a rate, with every request counted by
 * outcome. Counts are kept in total and per phase (`phase('outage')`), so a test can say "while
 * Redis was down, N requests were sent and all N succeeded".
 *
 * A request succeeds when it gets a 200 and, for a stream, the whole stream up to `[DONE]` without
 * an error event. Everything else is a failure, counted by its HTTP status or by what went wrong
 * (`network`, `client_timeout`, `stream_error`, `stream_truncated`). A client that disconnects on
 * purpose (`disconnectShare`) is counted as `disconnected`, neither success nor failure.
 */

export interface TrafficTenant {
  id: string;
  apiKey: string;
}

export interface TrafficOptions {
  /** Gateway base URLs; read at every request, so a test may change the set while traffic flows. */
  gateways: () => readonly string[];
  tenants: readonly TrafficTenant[];
  channel: string;
  /** New sessions per second (changeable with `setRate`). */
  sessionsPerSecond: number;
  /** Requests per session. */
  turns: number;
  /** Pause between two turns of a session. */
  thinkMs?: number;
  /** Share of requests sent with `stream: true`. */
  streamShare?: number;
  /** Share of streamed requests whose client disconnects after the first content chunk. */
  disconnectShare?: number;
  /** Each turn goes to the next gateway (sessions move between gateways), else one gateway per session. */
  alternateGateways?: boolean;
  sessionPrefix: string;
  maxTokens?: number;
  /** A request not answered within this long is aborted and counted as `client_timeout`. */
  requestTimeoutMs?: number;
}

export interface TrafficCounts {
  sent: number;
  succeeded: number;
  failed: number;
  /** Failures by HTTP status or kind. */
  failedBy: Record<string, number>;
  /** Streams the client abandoned on purpose, mid-stream. */
  disconnected: number;
  streams: number;
  byCohort: Record<string, number>;
  byVersion: Record<string, number>;
  byGateway: Record<string, number>;
  /** Answers carrying `x-switchyard-session-reset: true`. */
  resets: number;
  /** Answers of a session from another version than its previous answer, without a reset. */
  versionChanges: number;
  /** Fallback answers are visible as stable answering a canary session; counted per cohort header. */
  sessionsStarted: number;
}

export interface FailureSample {
  atMs: number;
  phase: string;
  gateway: string;
  session: string;
  kind: string;
  detail: string;
}

function emptyCounts(): TrafficCounts {
  return {
    sent: 0,
    succeeded: 0,
    failed: 0,
    failedBy: {},
    disconnected: 0,
    streams: 0,
    byCohort: {},
    byVersion: {},
    byGateway: {},
    resets: 0,
    versionChanges: 0,
    sessionsStarted: 0,
  };
}

const bump = (m: Record<string, number>, k: string) => {
  m[k] = (m[k] ?? 0) + 1;
};

interface Answer {
  kind: 'ok' | 'failed' | 'disconnected';
  failure?: string;
  detail?: string;
  text?: string;
  version: string | null;
  cohort: string | null;
  reset: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class TrafficDriver {
  private readonly opts: Required<TrafficOptions>;
  private readonly total = emptyCounts();
  private readonly phases = new Map<string, TrafficCounts>();
  private phaseName = 'start';
  private rate: number;
  private timer: NodeJS.Timeout | null = null;
  private due = 0;
  private lastTickMs = 0;
  private sessionSeq = 0;
  private stopping = false;
  private readonly running = new Set<Promise<void>>();
  private inFlightNow = 0;
  /** Requests sent per session id (what the telemetry table must hold per session). */
  readonly perSession = new Map<string, number>();
  /** `x-request-id` of every request that got response headers (each must have one event). */
  readonly requestIds = new Set<string>();
  private readonly latencies = new Map<string, number[]>();
  readonly failures: FailureSample[] = [];

  constructor(opts: TrafficOptions) {
    this.opts = {
      thinkMs: 50,
      streamShare: 0.3,
      disconnectShare: 0,
      alternateGateways: true,
      maxTokens: 24,
      requestTimeoutMs: 20_000,
      ...opts,
    };
    this.rate = opts.sessionsPerSecond;
    this.phases.set(this.phaseName, emptyCounts());
  }

  /** Starts new sessions at the configured rate until `stop()`. */
  start(): this {
    this.lastTickMs = performance.now();
    this.timer = setInterval(() => this.tick(), 20);
    return this;
  }

  setRate(sessionsPerSecond: number): void {
    this.rate = sessionsPerSecond;
  }

  /** Counts requests sent from now on under `name` (until the next call). */
  phase(name: string): void {
    this.phaseName = name;
    if (!this.phases.has(name)) this.phases.set(name, emptyCounts());
  }

  counts(phase?: string): TrafficCounts {
    const c = phase === undefined ? this.total : this.phases.get(phase);
    if (!c) throw new Error(`no traffic phase '${phase}'`);
    return structuredClone(c);
  }

  /** A quantile (0..1) of the latency of successful requests sent in `phase` (whole answers), in ms. */
  latency(phase: string, q: number): number {
    const xs = [...(this.latencies.get(phase) ?? [])].sort((a, b) => a - b);
    if (xs.length === 0) return Number.NaN;
    return xs[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)] as number;
  }

  /** Requests in flight now. */
  get inFlight(): number {
    return this.inFlightNow;
  }

  /** Stops starting sessions; running sessions finish the request in hand and end. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Sends `n` sessions' worth of requests now, at once (a burst), and waits for them. */
  async burst(n: number): Promise<void> {
    await Promise.all(Array.from({ length: n }, () => this.session()));
  }

  private tick(): void {
    const now = performance.now();
    this.due += ((now - this.lastTickMs) / 1000) * this.rate;
    this.lastTickMs = now;
    while (this.due >= 1 && !this.stopping) {
      this.due -= 1;
      const p = this.session().finally(() => this.running.delete(p));
      this.running.add(p);
    }
  }

  private countsFor(phase: string): TrafficCounts[] {
    return [this.total, this.phases.get(phase) as TrafficCounts];
  }

  private async session(): Promise<void> {
    const n = ++this.sessionSeq;
    const tenant = this.opts.tenants[n % this.opts.tenants.length] as TrafficTenant;
    const session = `${this.opts.sessionPrefix}-${n}`;
    for (const c of this.countsFor(this.phaseName)) c.sessionsStarted++;
    const messages: Array<{ role: string; content: string }> = [
      { role: 'system', content: 'You are a test agent. Answer briefly.' },
    ];
    let lastVersion: string | null = null;
    for (let turn = 0; turn < this.opts.turns; turn++) {
      if (turn > 0 && this.stopping) return;
      const gateways = this.opts.gateways();
      if (gateways.length === 0) return;
      const gi = this.opts.alternateGateways ? (n + turn) % gateways.length : n % gateways.length;
      const gateway = gateways[gi] as string;
      messages.push({ role: 'user', content: `session ${session} turn ${turn}: tell me about item ${n}` });
      const stream = Math.random() < this.opts.streamShare;
      const disconnect = stream && Math.random() < this.opts.disconnectShare;
      const phase = this.phaseName;
      const counts = this.countsFor(phase);
      for (const c of counts) {
        c.sent++;
        if (stream) c.streams++;
        bump(c.byGateway, gateway);
      }
      this.perSession.set(session, (this.perSession.get(session) ?? 0) + 1);
      this.inFlightNow++;
      const t0 = performance.now();
      let a: Answer;
      try {
        a = await this.request(gateway, tenant, session, messages, stream, disconnect);
      } finally {
        this.inFlightNow--;
      }
      if (a.kind === 'ok') {
        const list = this.latencies.get(phase) ?? [];
        list.push(performance.now() - t0);
        this.latencies.set(phase, list);
      }
      for (const c of counts) {
        if (a.kind === 'ok') c.succeeded++;
        else if (a.kind === 'disconnected') c.disconnected++;
        else {
          c.failed++;
          bump(c.failedBy, a.failure ?? 'unknown');
        }
        if (a.cohort) bump(c.byCohort, a.cohort);
        if (a.version) bump(c.byVersion, a.version);
        if (a.reset) c.resets++;
        if (a.version && lastVersion && a.version !== lastVersion && !a.reset) c.versionChanges++;
      }
      if (a.kind === 'failed' && this.failures.length < 100) {
        this.failures.push({
          atMs: Date.now(),
          phase,
          gateway,
          session,
          kind: a.failure ?? 'unknown',
          detail: (a.detail ?? '').slice(0, 300),
        });
      }
      if (a.version) lastVersion = a.version;
      messages.push({ role: 'assistant', content: a.text || 'ok' });
      if (a.kind !== 'ok') return;
      if (turn + 1 < this.opts.turns) await sleep(this.opts.thinkMs);
    }
  }

  private async request(
    gateway: string,
    tenant: TrafficTenant,
    session: string,
    messages: Array<{ role: string; content: string }>,
    stream: boolean,
    disconnect: boolean,
  ): Promise<Answer> {
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, this.opts.requestTimeoutMs);
    const meta = { version: null as string | null, cohort: null as string | null, reset: false };
    try {
      const res = await fetch(`${gateway}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tenant.apiKey}`,
          'content-type': 'application/json',
          'x-session-id': session,
        },
        body: JSON.stringify({
          model: this.opts.channel,
          messages,
          max_tokens: this.opts.maxTokens,
          ...(stream ? { stream: true } : {}),
        }),
        signal: ac.signal,
      });
      const requestId = res.headers.get('x-request-id');
      if (requestId) this.requestIds.add(requestId);
      meta.version = res.headers.get('x-switchyard-version');
      meta.cohort = res.headers.get('x-switchyard-cohort');
      meta.reset = res.headers.get('x-switchyard-session-reset') === 'true';
      if (res.status !== 200 || !stream) {
        const body = await res.text();
        if (res.status !== 200) return { kind: 'failed', failure: String(res.status), detail: body, ...meta };
        const json = JSON.parse(body) as { choices?: Array<{ message?: { content?: string | null } }> };
        return { kind: 'ok', text: json.choices?.[0]?.message?.content ?? '', ...meta };
      }
      return await this.readStream(res, ac, disconnect, meta);
    } catch (e) {
      if (timedOut) return { kind: 'failed', failure: 'client_timeout', detail: String(e), ...meta };
      return { kind: 'failed', failure: 'network', detail: (e as Error).message, ...meta };
    } finally {
      clearTimeout(timer);
    }
  }

  private async readStream(
    res: Response,
    ac: AbortController,
    disconnect: boolean,
    meta: { version: string | null; cohort: string | null; reset: boolean },
  ): Promise<Answer> {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let text = '';
    let done = false;
    let error: string | null = null;
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      buffer += decoder.decode(value, { stream: true });
      const blocks = buffer.split('\n\n');
      buffer = blocks.pop() ?? '';
      for (const block of blocks) {
        for (const line of block.split('\n')) {
          if (!line.startsWith('data:')) continue;
          const data = line.slice(5).trim();
          if (data === '[DONE]') {
            done = true;
            continue;
          }
          try {
            const chunk = JSON.parse(data) as {
              error?: unknown;
              choices?: Array<{ delta?: { content?: string } }>;
            };
            if (chunk.error) error = JSON.stringify(chunk.error);
            const piece = chunk.choices?.[0]?.delta?.content;
            if (piece) text += piece;
          } catch {
            error = `unparseable event: ${data.slice(0, 100)}`;
          }
        }
      }
      if (disconnect && text.length > 0) {
        // The agent goes away mid-answer: the connection is torn down under the gateway.
        ac.abort();
        await reader.cancel().catch(() => {});
        return { kind: 'disconnected', text, ...meta };
      }
    }
    if (error) return { kind: 'failed', failure: 'stream_error', detail: error, text, ...meta };
    if (!done) return { kind: 'failed', failure: 'stream_truncated', detail: text, text, ...meta };
    return { kind: 'ok', text, ...meta };
  }
}
