import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { TenantVerdict } from '../../bets/run-types.js';
import type { SinkStats } from '../batching-sink.js';
import type { TelemetryObserver } from '../observed-store.js';
import type { TelemetryEvent } from '../telemetry-event.js';
import { BatchHistogram } from './batch-histogram.js';
import { BoundedLabel, OTHER_LABEL } from './bounded-label.js';
import { DEFAULT_OBSERVABILITY } from './observability-config.js';
import { fold, MAX_GROUPS, newGroup, type RequestGroup, resetGroup, UNNAMED_KIND } from './request-group.js';

export interface PrometheusMetricsOptions {
  /** Distinct tenant label values kept (first seen); later tenants are labelled `other`. */
  tenantLabelLimit?: number;
  /** Distinct channel label values kept (first seen); later channels are labelled `other`. */
  channelLabelLimit?: number;
  /** Export the Node.js process metrics too (CPU, memory, event loop lag, GC). */
  processMetrics?: boolean;
  /** The gateway's telemetry sink counters (`gateway.stats().telemetry`), read at each scrape. */
  telemetrySink?: () => SinkStats;
  /** Tenant rollouts per phase (from the rollout store), read at each scrape. */
  rolloutPhases?: () => Promise<Record<string, number>>;
  /** A scrape-time source failed (its metric is left empty for that scrape). */
  onError?: (err: unknown, source: string) => void;
}

/**
 * Request latency buckets in seconds: the GenAI semantic conventions' advice for
 * `gen_ai.client.operation.duration` (powers of two from 10 ms to 82 s), which fits both fast
 * tool-call turns and long streamed answers.
 */
export const LATENCY_BUCKETS_S = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/** The cohort or channel label of a request that was never routed. */
const NONE = 'none';
/** Error types and violation kinds are fixed sets in the gateway; this cap only guards against a bug. */
const ENUM_LABEL_LIMIT = 100;

/**
 * The Prometheus metrics of one process, in its own registry (never the global default one, so
 * several apps can live in one test process). Per-request metrics are derived from telemetry
 * batches as a TelemetryObserver, off the response path; sink stats and rollout phases are read
 * from callbacks when scraped. Tenant and channel labels are capped (see BoundedLabel).
 *
 * Events the sink dropped (buffer full) never reach an observer, so the request metrics
 * undercount by `switchyard_telemetry_events_total{outcome="dropped"}`. Events whose database
 * write failed are still counted: the requests happened.
 */
export class PrometheusMetrics implements TelemetryObserver {
  readonly registry = new Registry();
  private readonly tenants: BoundedLabel;
  private readonly channels: BoundedLabel;
  private readonly errorTypes = new BoundedLabel(ENUM_LABEL_LIMIT);
  private readonly kinds = new BoundedLabel(ENUM_LABEL_LIMIT);
  private readonly reasons = new BoundedLabel(ENUM_LABEL_LIMIT);

  private readonly requests: Counter<'tenant' | 'channel' | 'cohort' | 'code' | 'stream'>;
  private readonly errors: Counter<'tenant' | 'channel' | 'cohort' | 'error_type'>;
  private readonly duration: BatchHistogram;
  private readonly ttfb: BatchHistogram;
  private readonly fallbacks: Counter<'tenant' | 'channel' | 'reason'>;
  private readonly sessionResets: Counter<'tenant' | 'channel'>;
  private readonly shadowed: Counter<'tenant' | 'channel'>;
  private readonly toolCallsChecked: Counter<'tenant' | 'channel' | 'cohort'>;
  private readonly toolCallsInvalid: Counter<'tenant' | 'channel' | 'cohort' | 'kind'>;
  private readonly toolCallsCoerced: Counter<'tenant' | 'channel' | 'cohort'>;
  private readonly formatChecks: Counter<'tenant' | 'channel' | 'cohort' | 'result'>;
  private readonly policyActions: Counter<'tenant' | 'channel' | 'cohort' | 'action'>;
  private readonly tokens: Counter<'tenant' | 'channel' | 'cohort' | 'type'>;
  private readonly verdicts: Counter<'tenant' | 'channel' | 'outcome'>;
  private readonly sourceErrors: Counter<'source'>;

  constructor(opts: PrometheusMetricsOptions = {}) {
    this.tenants = new BoundedLabel(opts.tenantLabelLimit ?? DEFAULT_OBSERVABILITY.tenantLabelLimit);
    this.channels = new BoundedLabel(opts.channelLabelLimit ?? DEFAULT_OBSERVABILITY.channelLabelLimit);
    const registers = [this.registry];
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Counter<L>({ name, help, labelNames, registers });
    const histogram = (name: string, help: string, labelNames: readonly string[]) =>
      new BatchHistogram(name, help, labelNames, LATENCY_BUCKETS_S, this.registry);

    this.requests = counter(
      'switchyard_gateway_requests_total',
      'Model requests answered by the gateway, by tenant, channel, cohort (stable, canary or none when unrouted), HTTP status and streaming',
      ['tenant', 'channel', 'cohort', 'code', 'stream'],
    );
    this.errors = counter(
      'switchyard_gateway_request_errors_total',
      'Model requests that ended in an error, by error type (gateway or upstream error kind)',
      ['tenant', 'channel', 'cohort', 'error_type'],
    );
    this.duration = histogram(
      'switchyard_gateway_request_duration_seconds',
      'Time from arrival to the last byte sent, per channel and cohort (no tenant label, to bound series)',
      ['channel', 'cohort', 'stream'],
    );
    this.ttfb = histogram(
      'switchyard_gateway_time_to_first_byte_seconds',
      'Time from arrival to the first byte sent to the client',
      ['channel', 'cohort', 'stream'],
    );
    this.fallbacks = counter(
      'switchyard_gateway_fallbacks_total',
      'Requests answered by another version than the one routed to (reason: candidate_error, breaker_open, ...)',
      ['tenant', 'channel', 'reason'],
    );
    this.sessionResets = counter(
      'switchyard_gateway_session_resets_total',
      'Sessions whose pinned version was cut and that restarted on another one',
      ['tenant', 'channel'],
    );
    this.shadowed = counter(
      'switchyard_gateway_shadowed_requests_total',
      'Requests copied to the candidate in shadow mode',
      ['tenant', 'channel'],
    );
    this.toolCallsChecked = counter(
      'switchyard_gateway_tool_calls_checked_total',
      "Tool calls checked against the tenant's contracts",
      ['tenant', 'channel', 'cohort'],
    );
    this.toolCallsInvalid = counter(
      'switchyard_gateway_tool_calls_invalid_total',
      'Checked tool calls that broke the contract (before coercion or fallback), by violation kind',
      ['tenant', 'channel', 'cohort', 'kind'],
    );
    this.toolCallsCoerced = counter(
      'switchyard_gateway_tool_calls_coerced_total',
      'Tool calls whose arguments were coerced into shape',
      ['tenant', 'channel', 'cohort'],
    );
    this.formatChecks = counter(
      'switchyard_gateway_format_checks_total',
      "Text answers checked against the tenant's output format contract (result: valid, invalid)",
      ['tenant', 'channel', 'cohort', 'result'],
    );
    this.policyActions = counter(
      'switchyard_gateway_policy_actions_total',
      'What the failure policy did about an invalid answer (pass, fallback, error, coerce)',
      ['tenant', 'channel', 'cohort', 'action'],
    );
    this.tokens = counter(
      'switchyard_gateway_tokens_total',
      'Tokens reported by the provider (type: input, output)',
      ['tenant', 'channel', 'cohort', 'type'],
    );
    this.verdicts = counter(
      'switchyard_bets_verdicts_total',
      'BETS gate verdicts recorded (outcome: pass, fail, error, pending)',
      ['tenant', 'channel', 'outcome'],
    );
    const overflow = new Counter<'label'>({
      name: 'switchyard_metrics_label_overflow_total',
      help: 'Observations whose tenant or channel was labelled "other" because the label cap was reached',
      labelNames: ['label'],
      registers,
      collect: () => {
        overflow.reset();
        overflow.inc({ label: 'tenant' }, this.tenants.overflowed);
        overflow.inc({ label: 'channel' }, this.channels.overflowed);
      },
    });
    const labelValues = new Gauge<'label'>({
      name: 'switchyard_metrics_label_values',
      help: 'Distinct tenant or channel values holding their own label (at most the configured cap)',
      labelNames: ['label'],
      registers,
      collect: () => {
        labelValues.set({ label: 'tenant' }, this.tenants.size);
        labelValues.set({ label: 'channel' }, this.channels.size);
      },
    });

    const sink = opts.telemetrySink;
    if (sink) {
      const events = new Counter<'outcome'>({
        name: 'switchyard_telemetry_events_total',
        help: 'Telemetry events by outcome: accepted into the buffer, dropped (buffer full), written, failed (write lost)',
        labelNames: ['outcome'],
        registers,
        collect: () => {
          const s = sink();
          events.reset();
          for (const outcome of ['accepted', 'dropped', 'written', 'failed'] as const) {
            events.inc({ outcome }, s[outcome]);
          }
        },
      });
      const buffered: Gauge = new Gauge({
        name: 'switchyard_telemetry_buffered_events',
        help: 'Telemetry events waiting to be written',
        registers,
        collect: () => {
          buffered.set(sink().buffered);
        },
      });
    }

    // A scrape collects metrics in registration order, each collect starting synchronously: the
    // source error counter is registered last and waits for this scrape's rollout read.
    let pending: Promise<void> = Promise.resolve();
    const phases = opts.rolloutPhases;
    if (phases) {
      const rollouts = new Gauge<'phase'>({
        name: 'switchyard_rollouts',
        help: 'Tenant rollouts by phase (pending, gating, shadow, canary, rolled_back, ...)',
        labelNames: ['phase'],
        registers,
        collect: () => {
          rollouts.reset();
          pending = phases().then(
            (byPhase) => {
              for (const [phase, n] of Object.entries(byPhase)) rollouts.set({ phase }, n);
            },
            (err: unknown) => {
              this.sourceErrors.inc({ source: 'rollouts' });
              opts.onError?.(err, 'rollouts');
            },
          );
          return pending;
        },
      });
    }

    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    this.sourceErrors = new Counter<'source'>({
      name: 'switchyard_metrics_source_errors_total',
      help: 'Scrapes in which a metric source failed (its metric was left empty)',
      labelNames: ['source'],
      registers,
      collect: () => pending,
    });
  }

  /** Prometheus text exposition of every metric. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  observe(batch: readonly TelemetryEvent[]): void {
    // Events are folded into one group per (tenant, channel, cohort) as plain numbers, and each
    // group's sums go to prom-client once per batch: prom-client validates and hashes a label
    // object on every call, which cost more per event than storing the event.
    const touched: RequestGroup[] = [];
    for (const e of batch) {
      const g = this.groupOf(e);
      if (g.events === 0) touched.push(g);
      fold(g, e);
    }
    for (const g of touched) this.flushGroup(g);
  }

  /** Groups by raw ids; bounded, since ids beyond the label caps still get their own entry. */
  private readonly groups = new Map<string, RequestGroup>();

  private groupOf(e: TelemetryEvent): RequestGroup {
    const key = `${e.tenantId}\u0000${e.channel ?? ''}\u0000${e.cohort ?? ''}`;
    let g = this.groups.get(key);
    if (!g) {
      // Only between batches is a group empty, so clearing here never loses counts.
      if (this.groups.size >= MAX_GROUPS) this.dropEmptyGroups();
      const tenant = this.tenants.value(e.tenantId);
      const channel = e.channel === null ? NONE : this.channels.value(e.channel);
      const cohort = e.cohort ?? NONE;
      const histogram = (h: BatchHistogram, stream: string) =>
        h.seriesFor(`${channel}\u0000${cohort}\u0000${stream}`, () => ({ channel, cohort, stream }));
      g = newGroup(
        { tenant, channel, cohort },
        {
          tenant: tenant === OTHER_LABEL && e.tenantId !== OTHER_LABEL,
          channel: channel === OTHER_LABEL && e.channel !== OTHER_LABEL,
        },
        [histogram(this.duration, 'false'), histogram(this.duration, 'true')],
        [histogram(this.ttfb, 'false'), histogram(this.ttfb, 'true')],
      );
      this.groups.set(key, g);
    }
    return g;
  }

  private dropEmptyGroups(): void {
    for (const [k, g] of this.groups) if (g.events === 0) this.groups.delete(k);
  }

  /** Adds a group's sums for this batch to the counters, then zeroes them. */
  private flushGroup(g: RequestGroup): void {
    const { tenant, channel, cohort } = g.labels;
    const tcc = g.labels;
    // Each observation of an over-cap value counts once, as before grouping.
    if (g.overflow.tenant) this.tenants.overflowed += g.events - (g.flushed ? 0 : 1);
    if (g.overflow.channel) this.channels.overflowed += g.events - (g.flushed ? 0 : 1);
    g.flushed = true;
    for (const [codeStream, n] of g.requests) {
      const code = String(codeStream >> 1);
      this.requests.inc({ tenant, channel, cohort, code, stream: codeStream & 1 ? 'true' : 'false' }, n);
    }
    for (const [type, n] of g.errors)
      this.errors.inc({ tenant, channel, cohort, error_type: this.errorTypes.value(type) }, n);
    for (const [reason, n] of g.fallbacks)
      this.fallbacks.inc({ tenant, channel, reason: this.reasons.value(reason) }, n);
    if (g.sessionResets) this.sessionResets.inc({ tenant, channel }, g.sessionResets);
    if (g.shadowed) this.shadowed.inc({ tenant, channel }, g.shadowed);
    if (g.toolCallsChecked) this.toolCallsChecked.inc(tcc, g.toolCallsChecked);
    for (const [k, n] of g.invalidKinds)
      this.toolCallsInvalid.inc(
        { tenant, channel, cohort, kind: k === UNNAMED_KIND ? 'unknown' : this.kinds.value(k) },
        n,
      );
    if (g.toolCallsCoerced) this.toolCallsCoerced.inc(tcc, g.toolCallsCoerced);
    if (g.formatValid) this.formatChecks.inc({ tenant, channel, cohort, result: 'valid' }, g.formatValid);
    if (g.formatInvalid)
      this.formatChecks.inc({ tenant, channel, cohort, result: 'invalid' }, g.formatInvalid);
    for (const [action, n] of g.policyActions) this.policyActions.inc({ tenant, channel, cohort, action }, n);
    if (g.inputTokens) this.tokens.inc({ tenant, channel, cohort, type: 'input' }, g.inputTokens);
    if (g.outputTokens) this.tokens.inc({ tenant, channel, cohort, type: 'output' }, g.outputTokens);
    resetGroup(g);
  }

  /** Counts a BETS gate verdict. */
  recordVerdict(v: TenantVerdict): void {
    this.verdicts.inc({
      tenant: this.tenants.value(v.tenantId),
      channel: this.channels.value(v.channel),
      outcome: v.outcome,
    });
  }
}
