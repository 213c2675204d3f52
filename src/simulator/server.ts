/**
 * The provider simulator's HTTP server: plain node:http (it is the upstream in benchmarks, so it
 * must cost close to nothing), speaking OpenAI Chat Completions and Anthropic Messages.
 *
 * Per request: authenticate, parse, find the model's profile, derive the request's PRNG
 * (request-seed.ts), draw a fault and a latency plan, plan the reply (reply.ts), then answer in
 * the request's wire format: an error, a hang, a JSON body or a paced SSE stream. With zero
 * latency nothing waits on a timer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  anthropicMessage,
  anthropicStreamFrames,
  parseAnthropicRequest,
  renderAnthropicError,
} from './anthropic-wire.js';
import { decideFault, planLatency } from './faults.js';
import { type KnownCase, KnownCaseIndex } from './known-cases.js';
import {
  openAiCompletion,
  openAiStreamFrames,
  parseOpenAiRequest,
  renderOpenAiError,
} from './openai-wire.js';
import { type BehaviourProfile, type ResolvedProfile, resolveProfile } from './profile.js';
import { type ModelOutput, planReply } from './reply.js';
import { RequestSeeder } from './request-seed.js';
import { estimateTokens, type ParseResult } from './sim-request.js';
import type { RenderedError, ReplyMeta, SimError } from './wire-types.js';

/** The logging the simulator does; a pino logger fits. */
export interface SimulatorLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 1. The same seed and the same requests give the same responses. */
  seed?: number;
  /** Simulated models by upstream model name (e.g. `sim-gpt-2026-03`). */
  models: Record<string, BehaviourProfile>;
  knownCases?: readonly KnownCase[];
  /** When set, requests must carry it as `Authorization: Bearer` or `x-api-key`. */
  requiredKey?: string;
  logger?: SimulatorLogger;
}

export interface SimulatorStats {
  /** Requests to the completion endpoints (both formats), valid or not. */
  requests: number;
  /** Requests per configured model that got as far as naming it. */
  byModel: Record<string, number>;
}

export interface RunningSimulator {
  url: string;
  port: number;
  close(): Promise<void>;
  stats(): SimulatorStats;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;
const MODELS_CREATED = 1_767_225_600; // 2026-01-01, a fixed date so model listings are stable

interface Wire {
  parse(body: unknown): ParseResult;
  renderError(error: SimError): RenderedError;
  body(output: ModelOutput, meta: ReplyMeta): unknown;
  frames(output: ModelOutput, meta: ReplyMeta, chunkChars: number, usage: boolean): string[];
  requestIdHeader: string;
  badJsonMessage: string;
}

const OPENAI: Wire = {
  parse: parseOpenAiRequest,
  renderError: renderOpenAiError,
  body: openAiCompletion,
  frames: (output, meta, chunkChars, includeUsage) =>
    openAiStreamFrames(output, meta, { chunkChars, includeUsage }),
  requestIdHeader: 'x-request-id',
  badJsonMessage:
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)",
};

const ANTHROPIC: Wire = {
  parse: parseAnthropicRequest,
  renderError: renderAnthropicError,
  body: anthropicMessage,
  frames: (output, meta, chunkChars) => anthropicStreamFrames(output, meta, { chunkChars }),
  requestIdHeader: 'request-id',
  badJsonMessage: 'There was an issue with your request body: it is not valid JSON.',
};

const NON_JSON_BODY =
  '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n';

class Simulator {
  private readonly profiles = new Map<string, ResolvedProfile>();
  private readonly knownCases: KnownCaseIndex;
  private readonly seeder: RequestSeeder;
  private readonly timers = new Set<NodeJS.Timeout>();
  private requests = 0;
  private readonly byModel = new Map<string, number>();
  private requestCounter = 0;

  constructor(private readonly options: SimulatorOptions) {
    for (const [name, profile] of Object.entries(options.models)) {
      this.profiles.set(name, resolveProfile(profile, `models.${name}`));
    }
    this.knownCases = new KnownCaseIndex(options.knownCases ?? []);
    this.seeder = new RequestSeeder(options.seed ?? 1);
  }

  stats(): SimulatorStats {
    return { requests: this.requests, byModel: Object.fromEntries(this.byModel) };
  }

  /** Stops every pending delay and hang (their requests are dropped with their sockets). */
  clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      this.route(req, res);
    } catch (error) {
      // A throw in a request listener would take the whole process down; answer 500 instead.
      this.options.logger?.error({ err: error }, 'simulator request failed');
      if (!res.headersSent) this.sendError(res, OPENAI, { kind: 'server_error' });
      else res.destroy();
    }
  };

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const anthropicClient = typeof req.headers['anthropic-version'] === 'string';
    const wire =
      path === '/v1/messages' || (anthropicClient && path !== '/v1/chat/completions') ? ANTHROPIC : OPENAI;
    const requestId = `req_${(++this.requestCounter).toString(36).padStart(8, '0')}`;
    res.setHeader(wire.requestIdHeader, requestId);
    if (req.method === 'POST' && (path === '/v1/chat/completions' || path === '/v1/messages')) {
      this.requests++;
      if (!this.authorised(req)) {
        req.resume(); // drain the unread body so the kept-alive connection stays usable
        this.sendError(res, wire, { kind: 'authentication' });
        return;
      }
      this.serveCompletion(req, res, wire).catch((error: unknown) => {
        this.options.logger?.error({ err: error, requestId }, 'simulator request failed');
        if (!res.headersSent) this.sendError(res, wire, { kind: 'server_error' });
        else res.destroy();
      });
    } else if (req.method === 'GET' && (path === '/health' || path === '/healthz')) {
      this.sendJson(res, 200, { status: 'ok' });
    } else if (req.method === 'GET' && path.startsWith('/v1/models')) {
      if (this.authorised(req)) {
        const id = decodeURIComponent(path.slice('/v1/models/'.length));
        this.serveModels(res, wire, id, anthropicClient);
      } else {
        this.sendError(res, wire, { kind: 'authentication' });
      }
    } else {
      req.resume();
      this.sendError(res, wire, { kind: 'route_not_found', method: req.method ?? 'GET', path });
    }
  }

  private authorised(req: IncomingMessage): boolean {
    const required = this.options.requiredKey;
    if (required === undefined) return true;
    const auth = req.headers.authorization;
    const bearer = typeof auth === 'string' && /^bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
    const apiKey = req.headers['x-api-key'];
    return bearer === required || apiKey === required;
  }

  private serveModels(res: ServerResponse, wire: Wire, id: string, anthropicClient: boolean): void {
    const names = [...this.profiles.keys()];
    const openAiModel = (name: string) => ({
      id: name,
      object: 'model',
      created: MODELS_CREATED,
      owned_by: 'switchyard-simulator',
    });
    const anthropicModel = (name: string) => ({
      type: 'model',
      id: name,
      display_name: name,
      created_at: new Date(MODELS_CREATED * 1000).toISOString(),
    });
    if (id && !this.profiles.has(id)) {
      this.sendError(res, wire, { kind: 'model_not_found', model: id });
    } else if (id) {
      this.sendJson(res, 200, anthropicClient ? anthropicModel(id) : openAiModel(id));
    } else if (anthropicClient) {
      this.sendJson(res, 200, {
        data: names.map(anthropicModel),
        has_more: false,
        first_id: names[0] ?? null,
        last_id: names[names.length - 1] ?? null,
      });
    } else {
      this.sendJson(res, 200, { object: 'list', data: names.map(openAiModel) });
    }
  }

  private async serveCompletion(req: IncomingMessage, res: ServerResponse, wire: Wire): Promise<void> {
    const raw = await readBody(req, MAX_BODY_BYTES);
    if (raw === 'aborted') return;
    if (raw === 'too_large') return this.sendError(res, wire, { kind: 'too_large' });
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return this.sendError(res, wire, {
        kind: 'invalid_request',
        message: wire.badJsonMessage,
        param: null,
      });
    }
    const parsed = wire.parse(json);
    if (!parsed.ok)
      return this.sendError(res, wire, {
        kind: 'invalid_request',
        message: parsed.message,
        param: parsed.param,
      });
    const request = parsed.request;
    const profile = this.profiles.get(request.model);
    if (!profile) return this.sendError(res, wire, { kind: 'model_not_found', model: request.model });
    this.byModel.set(request.model, (this.byModel.get(request.model) ?? 0) + 1);

    const tenantHeader = req.headers['x-switchyard-tenant'];
    const tenant = typeof tenantHeader === 'string' && tenantHeader.length > 0 ? tenantHeader : undefined;
    const rng = this.seeder.rngFor(request.model, tenant, request.identity);
    const fault = decideFault(profile.errors, rng.fork('fault'));
    const latency = planLatency(profile.latency, rng.fork('latency'));
    let closed = false;
    res.on('close', () => {
      closed = true;
    });

    if (fault?.kind === 'rate_limit' || fault?.kind === 'server_error' || fault?.kind === 'overloaded') {
      await this.sleep(latency.firstTokenMs);
      if (closed) return;
      return this.sendError(
        res,
        wire,
        fault.kind === 'rate_limit'
          ? { kind: 'rate_limit', retryAfterSeconds: fault.retryAfterSeconds }
          : { kind: fault.kind },
      );
    }
    if (fault?.kind === 'timeout') return this.hang(res, fault.hangMs);

    const reply = planReply(request, { profile, rng, tenant, knownCases: this.knownCases });
    const ids = rng.fork('ids');
    const output = reply.output;
    const meta: ReplyMeta = {
      id: ids.id(24),
      toolCallId: ids.id(24),
      created: Math.floor(Date.now() / 1000),
      model: request.model,
      promptTokens: estimateTokens(request.identity),
      completionTokens: estimateTokens(output.kind === 'text' ? output.text : output.argumentsJson),
    };
    this.options.logger?.debug(
      { model: request.model, tenant, fault: fault?.kind, drift: reply.drift, knownCase: reply.knownCaseId },
      'simulated reply',
    );

    if (fault?.kind === 'non_json') {
      await this.sleep(latency.totalMs);
      if (closed) return;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(NON_JSON_BODY);
      return;
    }
    if (!request.stream) {
      await this.sleep(latency.totalMs);
      if (closed) return;
      const body = JSON.stringify(wire.body(output, meta));
      // A malformed body is valid JSON cut in half, as a proxy dropping the connection leaves it.
      return this.sendRaw(
        res,
        200,
        fault?.kind === 'malformed' ? body.slice(0, Math.floor(body.length / 2)) : body,
      );
    }
    const frames = wire.frames(output, meta, profile.streaming.chunkChars, request.includeUsage);
    await this.sleep(latency.firstTokenMs);
    if (closed) return;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    if (fault?.kind === 'malformed') {
      // Half the frames, then half of the next one, and the stream just ends: no terminator.
      const keep = Math.max(1, Math.floor(frames.length / 2));
      const cut = frames[keep] ?? '';
      res.end(frames.slice(0, keep).join('') + cut.slice(0, Math.floor(cut.length / 2)));
      return;
    }
    const gap = latency.interChunkMs(frames.length);
    if (gap <= 0) {
      res.end(frames.join(''));
      return;
    }
    for (let i = 0; i < frames.length; i++) {
      if (i > 0) await this.sleep(gap);
      if (closed) return;
      res.write(frames[i]);
    }
    res.end();
  }

  /** A request that never gets an answer: the socket is dropped after `hangMs`. */
  private hang(res: ServerResponse, hangMs: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      res.socket?.destroy();
    }, hangMs);
    this.timers.add(t);
    res.on('close', () => {
      clearTimeout(t);
      this.timers.delete(t);
    });
  }

  private sendError(res: ServerResponse, wire: Wire, error: SimError): void {
    const rendered = wire.renderError(error);
    for (const [k, v] of Object.entries(rendered.headers)) res.setHeader(k, v);
    this.sendJson(res, rendered.status, rendered.body);
  }

  private sendJson(res: ServerResponse, status: number, body: unknown): void {
    this.sendRaw(res, status, JSON.stringify(body));
  }

  private sendRaw(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }
}

/** The request body as text; `too_large` past `limit` bytes; `aborted` if the client went away. */
function readBody(req: IncomingMessage, limit: number): Promise<string | 'too_large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? 'too_large' : Buffer.concat(chunks).toString('utf8')));
    // After 'end' this settles nothing; before it, the body will never complete.
    req.on('close', () => resolve('aborted'));
    req.on('error', () => resolve('aborted'));
  });
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Starts the simulator; profiles are validated (and defaults filled) before it listens. */
export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const simulator = new Simulator(options);
  const server = createServer({ keepAlive: true }, simulator.handle);
  // Clients (and the gateway under test) pool connections; keep them longer than Node's 5 s.
  server.keepAliveTimeout = 65_000;
  const host = options.host ?? '127.0.0.1';
  const address = await listen(server, options.port ?? 0, host);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  options.logger?.info(
    { port: address.port, models: Object.keys(options.models) },
    'provider simulator listening',
  );
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    stats: () => simulator.stats(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        simulator.clearTimers();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
