import { hash } from 'node:crypto';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FastifyRequest } from 'fastify';
import type { SelfCorrectionError } from '../contracts/self-correction.js';
import type { WireResponse } from '../contracts/self-correction-wire.js';
import { AbortHandle, sleep } from '../providers/abort-handle.js';
import { tryParseJson } from '../providers/read-body.js';
import type { ChannelRoute, KeyRoute, RoutingSnapshot, TenantRoute } from '../registry/routing-snapshot.js';
import type { Contract, ModelVersion } from '../registry/types.js';
import type { Clock } from '../shared/clock.js';
import type { BatchingSink } from '../telemetry/batching-sink.js';
import type { TelemetryEvent } from '../telemetry/telemetry-event.js';
import { authenticate } from './auth.js';
import type { BreakerRegistry, CallOutcome } from './circuit-breaker.js';
import type { DriftTracker } from './drift/drift-tracker.js';
import type { GatewayConfig } from './gateway-config.js';
import { badRequest, GatewayError, invalidKey, modelNotFound } from './gateway-error.js';
import type { GatewayCounters, GatewayLogger } from './gateway-types.js';
import { type Cohort, cohortOf, type RouteDecision, type Router } from './routing/router.js';
import { sessionIdOf, taskIdOf } from './session.js';
import type { ShadowRunner } from './shadow/shadow-runner.js';
import type { TrafficCapture } from './tool-call-check.js';
import type { Attempt, UpstreamCaller } from './upstream-call.js';
import {
  type ContractEnforcer,
  type PolicyContext,
  ValidationRecord,
} from './validation/contract-enforcer.js';
import { checkFormat, checkToolCalls, contractSetOf } from './validation/response-check.js';
import type { DecideHeld } from './validation/tool-call-hold.js';
import {
  EMPTY_SUMMARY,
  type RequestView,
  type ResponseSummary,
  type WireFormat,
} from './wire/wire-format.js';

/** Everything a chat exchange needs; built once by the gateway, shared by all requests. */
export interface ExchangeDeps {
  snapshots: { current(): RoutingSnapshot };
  router: Router;
  breakers: BreakerRegistry;
  caller: UpstreamCaller;
  shadow: ShadowRunner;
  telemetry: BatchingSink<TelemetryEvent>;
  /** Tenant failure policies over contract checks (and the coercion ledger). */
  enforcer: ContractEnforcer;
  /** Drift evidence: each cohort's answers on channels with a candidate. */
  drift: DriftTracker;
  capture: TrafficCapture;
  clock: Clock;
  config: GatewayConfig;
  /** Uniform in [0, 1), for shadow sampling (injectable for tests). */
  random: () => number;
  counters: GatewayCounters;
  logger: GatewayLogger;
}

const NO_CONTRACTS: ReadonlyMap<string, Contract> = new Map();
const NOTHING = { checked: 0, invalid: [] };

function outcomeOf(a: Attempt): CallOutcome {
  switch (a.kind) {
    case 'answer':
      return 'success';
    case 'relayed':
      return a.errorType === null ? 'success' : 'failure';
    case 'upstream_status':
      return a.status >= 500 || a.status === 429 ? 'failure' : 'ignored';
    case 'failed':
      return 'failure';
    default:
      return 'ignored';
  }
}

/** Worth retrying on another version: nothing reached the client and the provider, not the request, failed. */
function retryable(a: Attempt): boolean {
  return a.kind === 'failed' || (a.kind === 'upstream_status' && (a.status >= 500 || a.status === 429));
}

function parseBody(body: unknown): unknown {
  if (!Buffer.isBuffer(body) || body.length === 0) {
    throw badRequest('the request body must be a JSON object', null, 'invalid_json');
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('the request body is not valid JSON', null, 'invalid_json');
  }
}

/**
 * One chat request (either wire format), from authentication to telemetry. Built per request;
 * its fields fill in as the request progresses, and whatever is known at the end (however it
 * ended) becomes the telemetry event.
 */
export class ChatExchange {
  private readonly t0 = performance.now();
  private readonly atMs: number;
  private readonly requestId: string;
  private readonly abort = new AbortHandle();
  private key: KeyRoute | null = null;
  private view: RequestView | null = null;
  private sessionId: string | null = null;
  private taskId: string | null = null;
  private route: ChannelRoute | null = null;
  private decision: RouteDecision | null = null;
  private served: ModelVersion | null = null;
  private fallback: string | null = null;
  private status = 0;
  private errorType: string | null = null;
  private summary: ResponseSummary = EMPTY_SUMMARY;
  private ttfbMs: number | null = null;
  private shadowed = false;
  private promptHashValue: string | null | undefined;
  private tenant: TenantRoute | null = null;
  /** The routed answer's contract outcome (what the telemetry event reports). */
  private readonly validation = new ValidationRecord();
  /** The self-correction error to answer with (policy `error`, or an unrepairable coercion). */
  private correction: WireResponse | null = null;

  constructor(
    private readonly d: ExchangeDeps,
    private readonly wire: WireFormat,
    private readonly req: FastifyRequest,
    private readonly res: ServerResponse,
  ) {
    this.atMs = d.clock.now();
    this.requestId = String(req.id);
  }

  /** Never throws: every failure becomes an answer in the client's wire format. */
  async run(): Promise<void> {
    // A client that disconnects before the answer is complete aborts the upstream call.
    this.res.once('close', () => {
      if (!this.res.writableFinished) this.abort.abort();
    });
    try {
      await this.serve();
    } catch (e) {
      this.fail(e);
    } finally {
      this.record();
    }
  }

  private async serve(): Promise<void> {
    const d = this.d;
    const snapshot = d.snapshots.current();
    const key = authenticate(this.req.headers, snapshot, this.atMs);
    this.key = key;
    const view = this.wire.view(parseBody(this.req.body));
    this.view = view;
    const tenant = snapshot.tenants.get(key.tenantId);
    if (!tenant) throw invalidKey();
    this.tenant = tenant;
    const route = tenant.channels.get(view.channel);
    if (!route) throw modelNotFound(view.channel);
    this.route = route;
    this.sessionId = sessionIdOf(this.req.headers, this.wire, view);
    this.taskId = taskIdOf(this.req.headers);
    const decision = await d.router.decide(snapshot, tenant, route, this.sessionId);
    this.decision = decision;
    if (decision.reset) d.counters.sessionResets++;

    let target = decision.version;
    if (!this.admit(target)) {
      if (target.id === route.stable.id || !this.admit(route.stable)) throw this.unavailable(target);
      target = route.stable;
      this.fallback = 'breaker_open';
    }
    const shadowTo = this.shadowCandidate(route, target);
    let attempt = await this.attempt(target, shadowTo !== null);
    // Tenants with failure policy `error` want the candidate's failure itself, not a quiet
    // answer from stable: their agents handle errors and the controller must see them.
    if (
      retryable(attempt) &&
      tenant.failurePolicy !== 'error' &&
      target.id !== route.stable.id &&
      !this.abort.aborted &&
      this.admit(route.stable)
    ) {
      target = route.stable;
      this.fallback = 'candidate_error';
      attempt = await this.attempt(target, shadowTo !== null);
    }
    if (
      attempt.kind === 'upstream_status' &&
      attempt.status === 429 &&
      attempt.retryAfterMs !== null &&
      attempt.retryAfterMs <= d.config.maxRetryAfterMs
    ) {
      await sleep(attempt.retryAfterMs, this.abort);
      if (!this.abort.aborted && this.admit(target)) attempt = await this.attempt(target, shadowTo !== null);
    }
    attempt = await this.enforce(tenant, route, target, attempt, shadowTo !== null);
    target = this.served ?? target;
    if (this.fallback) d.counters.fallbacks[this.fallback] = (d.counters.fallbacks[this.fallback] ?? 0) + 1;
    this.finish(tenant, route, target, attempt, shadowTo);
  }

  /** Breaker check; true takes a half-open probe slot, which `attempt` always reports back. */
  private admit(version: ModelVersion): boolean {
    return this.d.breakers.get(version.id).allow();
  }

  private unavailable(version: ModelVersion): GatewayError {
    const retryAfterS = Math.max(1, Math.ceil(this.d.breakers.get(version.id).retryInMs() / 1000));
    return new GatewayError(503, 'unavailable', `model version ${version.id} is failing; retry later`, {
      code: 'circuit_open',
      retryAfterS,
    });
  }

  private async attempt(
    version: ModelVersion,
    shadowing: boolean,
    record: ValidationRecord = this.validation,
  ): Promise<Attempt> {
    const view = this.view as RequestView;
    const route = this.route as ChannelRoute;
    if (version.providerKind !== this.wire.providerKind) {
      this.d.breakers.get(version.id).record('ignored');
      const other = version.providerKind === 'anthropic' ? '/v1/messages' : '/v1/chat/completions';
      throw badRequest(
        `the model \`${view.channel}\` is served by a ${version.providerKind} model version; call it through ${other}`,
        'model',
        'wire_format_mismatch',
      );
    }
    this.served = version;
    const input = {
      wire: this.wire,
      view,
      version,
      passHeaders: this.wire.passHeaders(this.req.headers),
      extraHeaders: this.extraHeaders(),
      signal: this.abort,
    };
    const a = view.stream
      ? await this.d.caller.relay({
          ...input,
          res: this.res,
          headers: () => this.headers(version),
          // Text and arguments are needed for contracts, shadow pairs, cohort drift and capture.
          collect:
            shadowing ||
            route.candidate !== null ||
            route.stableContracts.size > 0 ||
            this.d.capture.wants(route.binding.tenantId),
          holdLeadingError: version.id !== route.stable.id,
          t0: this.t0,
          hold: this.holdFor(route, version, record),
        })
      : await this.d.caller.json(input);
    this.d.breakers.get(version.id).record(outcomeOf(a));
    return a;
  }

  private finish(
    tenant: TenantRoute,
    route: ChannelRoute,
    version: ModelVersion,
    a: Attempt,
    shadowTo: ModelVersion | null,
  ): void {
    if (this.correction) {
      if (a.kind === 'answer' || a.kind === 'rejected') this.summary = a.summary;
      this.errorType = 'tool_call_invalid';
      const c = this.correction;
      this.send(c.status, { ...this.headers(version), ...c.headers }, c.body);
      return;
    }
    switch (a.kind) {
      case 'answer':
        this.summary = a.summary;
        this.send(a.status, this.headers(version), a.body);
        if (a.status < 300) this.offerCapture(tenant);
        break;
      case 'relayed':
        this.summary = a.summary;
        this.ttfbMs = a.ttfbMs;
        this.status = 200;
        this.errorType = a.errorType;
        if (a.errorType === null) this.offerCapture(tenant);
        break;
      case 'upstream_status': {
        this.errorType = `upstream_${a.status}`;
        if (tryParseJson(a.body) === undefined) {
          throw new GatewayError(
            502,
            'upstream',
            `the provider of ${version.id} answered ${a.status} without a JSON body`,
            {
              code: 'upstream_bad_response',
            },
          );
        }
        const headers = this.headers(version);
        if (a.retryAfterMs !== null) headers['retry-after'] = String(Math.ceil(a.retryAfterMs / 1000));
        this.send(a.status, headers, a.body);
        return;
      }
      case 'failed':
        throw a.error;
      case 'aborted':
        this.status = 499;
        this.errorType = 'client_closed';
        return;
      case 'rejected':
        // enforce() answers every rejected stream with stable's answer or a correction.
        throw new GatewayError(500, 'internal', 'a rejected stream was left unanswered', {
          code: 'internal_error',
        });
    }
    if (shadowTo && this.errorType === null) this.offerShadow(route, version, shadowTo);
  }

  /** After the answer went out: the capture sink samples and enqueues, nothing more. */
  private offerCapture(tenant: TenantRoute): void {
    const view = this.view;
    if (!view) return;
    this.d.capture.capture(tenant.tenant.id, view.body, this.summary, this.wire.kind);
  }

  /**
   * The contracts an answer must meet: those registered for the version that answered. A candidate
   * with none of its own is held to stable's: the tenant's tool executor does not change with the
   * model, so an upgrade must not switch validation off.
   */
  private contractsOf(route: ChannelRoute, version: ModelVersion): ReadonlyMap<string, Contract> {
    if (version.id === route.stable.id) return route.stableContracts;
    if (version.id !== route.candidate?.id) return NO_CONTRACTS;
    return route.candidateContracts.size > 0 ? route.candidateContracts : route.stableContracts;
  }

  private policyContext(
    route: ChannelRoute,
    version: ModelVersion,
    contracts: ReadonlyMap<string, Contract>,
    sent: boolean,
  ): PolicyContext {
    const tenant = this.tenant as TenantRoute;
    return {
      tenantId: tenant.tenant.id,
      versionId: version.id,
      requestId: this.requestId,
      policy: tenant.failurePolicy,
      contracts,
      candidate: version.id !== route.stable.id,
      sent,
    };
  }

  /**
   * Applies the tenant's contracts to the routed answer: a plain answer is checked whole before
   * it is sent; a stream had its tool calls held and decided by `holdFor` during the relay and
   * only its text format is left to record. Returns the attempt to finish with (stable's after
   * a fallback); `correction` is set when the agent gets the self-correction error instead.
   */
  private async enforce(
    tenant: TenantRoute,
    route: ChannelRoute,
    version: ModelVersion,
    a: Attempt,
    shadowing: boolean,
  ): Promise<Attempt> {
    if (
      (a.kind === 'answer' && a.status < 300) ||
      a.kind === 'rejected' ||
      (a.kind === 'relayed' && a.errorType === null)
    )
      this.observeCohort(tenant, route, version, a.summary);
    if (a.kind === 'rejected') {
      if (a.reason === 'fallback') return this.fallBack(route, a, a.errors, shadowing);
      this.correction = this.wire.toolCallErrorResponse(a.errors);
      return a;
    }
    const contracts = this.contractsOf(route, version);
    const set = contractSetOf(contracts);
    if (!set.tools && set.formats.length === 0) return a;
    if (a.kind === 'relayed') {
      if (a.errorType === null && a.summary.toolCalls.length === 0) {
        const format = checkFormat(contracts, a.summary.text);
        if (format)
          this.d.enforcer.decide(
            this.policyContext(route, version, contracts, true),
            NOTHING,
            format.valid,
            this.validation,
          );
      }
      return a;
    }
    if (a.kind !== 'answer' || a.status >= 300) return a;
    const check = checkToolCalls(contracts, a.summary.toolCalls);
    const format = a.summary.toolCalls.length === 0 ? checkFormat(contracts, a.summary.text) : null;
    const v = this.d.enforcer.decide(
      this.policyContext(route, version, contracts, false),
      check,
      format ? format.valid : null,
      this.validation,
    );
    switch (v.action) {
      case 'release':
        return a;
      case 'coerce':
        return {
          ...a,
          body: Buffer.from(this.wire.withToolArguments(JSON.parse(a.body.toString('utf8')), v.replace)),
        };
      case 'error':
        this.correction = this.wire.toolCallErrorResponse(v.errors);
        return a;
      case 'fallback':
        return this.fallBack(route, a, v.errors, shadowing);
    }
  }

  /**
   * Policy `fallback`: the same request goes to stable, whose answer is checked too (recorded
   * in the counters; it is passed either way, being the baseline). With stable unavailable the
   * agent gets the self-correction error, or the candidate's answer when only its format failed.
   */
  private async fallBack(
    route: ChannelRoute,
    candidate: Attempt,
    errors: SelfCorrectionError[],
    shadowing: boolean,
  ): Promise<Attempt> {
    if (this.abort.aborted || !this.admit(route.stable)) {
      if (errors.length > 0) {
        this.correction = this.wire.toolCallErrorResponse(errors);
        this.validation.act('error');
      }
      return candidate;
    }
    this.fallback = 'tool_call_invalid';
    const stableRecord = new ValidationRecord();
    const b = await this.attempt(route.stable, shadowing, stableRecord);
    if (b.kind === 'answer' && b.status < 300) {
      const contracts = route.stableContracts;
      const check = checkToolCalls(contracts, b.summary.toolCalls);
      const format = b.summary.toolCalls.length === 0 ? checkFormat(contracts, b.summary.text) : null;
      this.d.enforcer.decide(
        this.policyContext(route, route.stable, contracts, false),
        check,
        format ? format.valid : null,
        stableRecord,
      );
    }
    if (stableRecord.invalid > 0 || stableRecord.formatValid === false) {
      this.d.enforcer.counters.stableInvalidAfterFallback++;
      this.d.logger.info(
        { requestId: this.requestId, versionId: route.stable.id, invalidKinds: stableRecord.invalidKinds },
        'stable answer after a contract fallback breaks the contracts too; passed as the baseline',
      );
    }
    return b;
  }

  /** For a stream of a version with tool contracts: how each completed group of tool calls is decided. */
  private holdFor(
    route: ChannelRoute,
    version: ModelVersion,
    record: ValidationRecord,
  ): DecideHeld | undefined {
    const contracts = this.contractsOf(route, version);
    if (!contractSetOf(contracts).tools) return undefined;
    return (summary, from, sent) => {
      const check = checkToolCalls(contracts, summary.toolCalls, from);
      const v = this.d.enforcer.decide(
        this.policyContext(route, version, contracts, sent),
        check,
        null,
        record,
      );
      switch (v.action) {
        case 'release':
          return v;
        case 'coerce':
          return { action: 'replace', replace: v.replace };
        case 'fallback':
          return { action: 'reject', reason: 'fallback', errors: v.errors };
        case 'error':
          return sent
            ? { action: 'end', event: this.wire.toolCallErrorEvent(v.errors) }
            : { action: 'reject', reason: 'error', errors: v.errors };
      }
    };
  }

  /** Feeds the answer's shape into the channel's cohort statistics while it has a candidate. */
  private observeCohort(
    tenant: TenantRoute,
    route: ChannelRoute,
    version: ModelVersion,
    summary: ResponseSummary,
  ): void {
    const candidate = route.candidate;
    if (!candidate || (version.id !== candidate.id && version.id !== route.stable.id)) return;
    this.d.drift.recordCohort(
      tenant.tenant.id,
      route.binding.channel,
      route.stable.id,
      candidate.id,
      version.id === candidate.id ? 'canary' : 'control',
      {
        toolCalls: summary.toolCalls.map((c) => ({ name: c.name, argumentsText: c.arguments, id: c.id })),
        text: summary.text,
      },
    );
  }

  /** The candidate to mirror this request to, when the binding is in shadow and this request is sampled. */
  private shadowCandidate(route: ChannelRoute, target: ModelVersion): ModelVersion | null {
    const c = route.candidate;
    const percent = route.binding.shadowPercent;
    if (!c || percent <= 0 || target.id === c.id || c.providerKind !== this.wire.providerKind) return null;
    return this.d.random() * 100 < percent ? c : null;
  }

  private offerShadow(route: ChannelRoute, stable: ModelVersion, candidate: ModelVersion): void {
    const key = this.key as KeyRoute;
    this.shadowed = this.d.shadow.offer({
      atMs: this.atMs,
      tenantId: key.tenantId,
      sessionId: this.sessionId ?? '',
      channel: route.binding.channel,
      requestId: this.requestId,
      promptHash: this.promptHash(),
      wire: this.wire,
      view: this.view as RequestView,
      passHeaders: this.wire.passHeaders(this.req.headers),
      extraHeaders: this.extraHeaders(),
      candidate,
      stable: {
        versionId: stable.id,
        status: this.status || 200,
        error: null,
        text: this.summary.text,
        toolCalls: this.summary.toolCalls,
        latencyMs: performance.now() - this.t0,
      },
    });
  }

  /** Headers the gateway adds for providers; only the simulator's tenant header so far. */
  private extraHeaders(): Record<string, string> | undefined {
    return this.d.config.upstreamTenantHeader && this.key
      ? { 'x-switchyard-tenant': this.key.tenantId }
      : undefined;
  }

  private headers(version: ModelVersion | null): OutgoingHttpHeaders {
    const h: OutgoingHttpHeaders = { 'x-request-id': this.requestId };
    if (this.sessionId) h['x-switchyard-session'] = this.sessionId;
    if (version && this.route) {
      h['x-switchyard-version'] = version.id;
      h['x-switchyard-cohort'] = cohortOf(this.route, version) satisfies Cohort;
    }
    if (this.decision?.reset) h['x-switchyard-session-reset'] = 'true';
    // Stable answered in the routed version's place: the version and cohort headers name stable,
    // and this says why, so a client can tell a fallback from being routed to stable.
    if (this.fallback) h['x-switchyard-fallback'] = this.fallback;
    return h;
  }

  private send(status: number, headers: OutgoingHttpHeaders, body: Buffer | string): void {
    this.status = status;
    if (this.ttfbMs === null) this.ttfbMs = performance.now() - this.t0;
    if (this.res.headersSent || this.res.destroyed) return;
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(body);
    this.res.writeHead(status, headers);
    this.res.end(body);
  }

  private fail(e: unknown): void {
    let err: GatewayError;
    if (e instanceof GatewayError) err = e;
    else {
      this.d.logger.error({ err: e, requestId: this.requestId }, 'gateway request failed');
      err = new GatewayError(
        500,
        'internal',
        `internal error; quote request id ${this.requestId} to the operator`,
        {
          code: 'internal_error',
        },
      );
    }
    this.errorType = this.errorType ?? err.code ?? err.kind;
    if (err.status === 401) this.d.counters.unauthenticated++;
    if (this.res.headersSent) {
      // Only reachable if a relay wrote and then something else threw: close the stream cleanly.
      this.status = this.status || 200;
      if (!this.res.writableEnded) this.res.end(this.wire.streamError(err));
      return;
    }
    const headers = this.headers(this.served);
    if (err.retryAfterS !== undefined) headers['retry-after'] = String(err.retryAfterS);
    this.send(err.status, headers, this.wire.errorBody(err));
  }

  private promptHash(): string | null {
    if (this.promptHashValue === undefined) {
      const body = this.req.body;
      this.promptHashValue = Buffer.isBuffer(body) ? hash('sha256', body, 'hex').slice(0, 32) : null;
    }
    return this.promptHashValue;
  }

  private record(): void {
    this.d.counters.requests++;
    const key = this.key;
    if (!key) return;
    this.d.telemetry.push({
      atMs: this.atMs,
      requestId: this.requestId,
      tenantId: key.tenantId,
      keyId: key.keyId,
      sessionId: this.sessionId,
      channel: this.view?.channel ?? null,
      versionId: this.served?.id ?? null,
      cohort: this.decision?.cohort ?? null,
      wire: this.wire.kind,
      stream: this.view?.stream ?? false,
      status: this.status,
      errorType: this.errorType,
      fallback: this.fallback,
      sessionReset: this.decision?.reset ?? false,
      toolNames: this.summary.toolCalls.map((c) => c.name),
      latencyMs: performance.now() - this.t0,
      ttfbMs: this.ttfbMs,
      inputTokens: this.summary.inputTokens,
      outputTokens: this.summary.outputTokens,
      promptHash: this.promptHash(),
      shadowed: this.shadowed,
      taskId: this.taskId,
      toolCallsChecked: this.validation.checked,
      toolCallsInvalid: this.validation.invalid,
      invalidKinds: this.validation.invalidKinds,
      toolCallsCoerced: this.validation.coerced,
      formatValid: this.validation.formatValid,
      policyAction: this.validation.policyAction,
    });
  }
}
