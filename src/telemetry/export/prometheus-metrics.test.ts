import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { TenantVerdict } from '../../bets/run-types.js';
import { createHttpApp, type HttpApp } from '../../http/create-http-app.js';
import { metricsRoute } from '../../http/metrics-route.js';
import type { SinkStats } from '../batching-sink.js';
import { ObservedTelemetryStore } from '../observed-store.js';
import { event } from '../rollups/test-support/rollup-fixtures.js';
import type { TelemetryEvent } from '../telemetry-event.js';
import { BoundedLabel, OTHER_LABEL } from './bounded-label.js';
import { PrometheusMetrics, type PrometheusMetricsOptions } from './prometheus-metrics.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition into samples (comments skipped). */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when none. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}

const silent = pino({ level: 'silent' });
let app: HttpApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function serve(metrics: PrometheusMetrics, bearerToken?: string): Promise<HttpApp> {
  app = await createHttpApp({ logger: silent, bodyLimitBytes: 65536 });
  await app.register(metricsRoute({ metrics, bearerToken }));
  return app;
}

async function scrape(metrics: PrometheusMetrics): Promise<Sample[]> {
  const http = await serve(metrics);
  const r = await http.inject({ method: 'GET', url: '/metrics' });
  expect(r.statusCode).toBe(200);
  expect(r.headers['content-type']).toContain('text/plain; version=0.0.4');
  return parse(r.body);
}

/** Metrics fed the way the gateway feeds them: through the observed telemetry store. */
async function fed(events: TelemetryEvent[], opts: PrometheusMetricsOptions = {}) {
  const metrics = new PrometheusMetrics({ processMetrics: false, ...opts });
  const store = new ObservedTelemetryStore({ append: async () => {} });
  store.add(metrics);
  await store.append(events);
  return metrics;
}

const verdict = (over: Partial<TenantVerdict> = {}): TenantVerdict => ({
  tenantId: 'alpha',
  channel: 'gpt-x',
  candidateVersionId: 'v2',
  upgradeId: 'up1',
  outcome: 'pass',
  kinds: [],
  runIds: ['run1'],
  reasons: [],
  decidedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

describe('BoundedLabel', () => {
  it('keeps the first values seen and labels later ones "other", for good', () => {
    const l = new BoundedLabel(2);
    expect([l.value('a'), l.value('b'), l.value('c'), l.value('a'), l.value('c')]).toEqual([
      'a',
      'b',
      OTHER_LABEL,
      'a',
      OTHER_LABEL,
    ]);
    expect(l.size).toBe(2);
    expect(l.overflowed).toBe(2);
  });

  it('with a limit of 0 labels everything "other"', () => {
    const l = new BoundedLabel(0);
    expect(l.value('a')).toBe(OTHER_LABEL);
  });
});

describe('PrometheusMetrics at GET /metrics', () => {
  it('counts requests, errors, routing, validation and tokens from telemetry batches', async () => {
    const samples = await scrape(
      await fed([
        event({ requestId: 'r1', inputTokens: 100, outputTokens: 20, toolNames: ['search'] }),
        event({
          requestId: 'r2',
          cohort: 'canary',
          versionId: 'v2',
          toolNames: ['search', 'book'],
          toolCallsChecked: 2,
          toolCallsInvalid: 2,
          invalidKinds: ['type', 'required'],
          policyAction: 'fallback',
          fallback: 'candidate_error',
          inputTokens: 50,
          outputTokens: 5,
        }),
        event({
          requestId: 'r3',
          status: 502,
          errorType: 'upstream_502',
          sessionReset: true,
          shadowed: true,
        }),
        event({ requestId: 'r4', formatValid: false, toolCallsCoerced: 1, toolCallsChecked: 1 }),
        event({
          requestId: 'r5',
          channel: null,
          versionId: null,
          cohort: null,
          status: 401,
          errorType: 'auth',
        }),
      ]),
    );
    const t = { tenant: 'alpha', channel: 'gpt-x' };
    expect(value(samples, 'switchyard_gateway_requests_total', { ...t, cohort: 'stable', code: '200' })).toBe(
      2,
    );
    expect(value(samples, 'switchyard_gateway_requests_total', { ...t, cohort: 'canary', code: '200' })).toBe(
      1,
    );
    expect(value(samples, 'switchyard_gateway_requests_total', { ...t, cohort: 'stable', code: '502' })).toBe(
      1,
    );
    expect(
      value(samples, 'switchyard_gateway_requests_total', { channel: 'none', cohort: 'none', code: '401' }),
    ).toBe(1);
    expect(value(samples, 'switchyard_gateway_request_errors_total', { error_type: 'upstream_502' })).toBe(1);
    expect(value(samples, 'switchyard_gateway_request_errors_total', { error_type: 'auth' })).toBe(1);
    expect(value(samples, 'switchyard_gateway_fallbacks_total', { ...t, reason: 'candidate_error' })).toBe(1);
    expect(value(samples, 'switchyard_gateway_session_resets_total', t)).toBe(1);
    expect(value(samples, 'switchyard_gateway_shadowed_requests_total', t)).toBe(1);
    expect(value(samples, 'switchyard_gateway_tool_calls_checked_total', { ...t, cohort: 'canary' })).toBe(2);
    expect(value(samples, 'switchyard_gateway_tool_calls_checked_total', { ...t, cohort: 'stable' })).toBe(1);
    expect(
      value(samples, 'switchyard_gateway_tool_calls_invalid_total', { cohort: 'canary', kind: 'type' }),
    ).toBe(1);
    expect(
      value(samples, 'switchyard_gateway_tool_calls_invalid_total', { cohort: 'canary', kind: 'required' }),
    ).toBe(1);
    expect(value(samples, 'switchyard_gateway_tool_calls_coerced_total', { cohort: 'stable' })).toBe(1);
    expect(value(samples, 'switchyard_gateway_format_checks_total', { result: 'invalid' })).toBe(1);
    expect(value(samples, 'switchyard_gateway_format_checks_total', { result: 'valid' })).toBeUndefined();
    expect(value(samples, 'switchyard_gateway_policy_actions_total', { action: 'fallback' })).toBe(1);
    expect(value(samples, 'switchyard_gateway_tokens_total', { cohort: 'stable', type: 'input' })).toBe(100);
    expect(value(samples, 'switchyard_gateway_tokens_total', { cohort: 'canary', type: 'input' })).toBe(50);
    expect(value(samples, 'switchyard_gateway_tokens_total', { cohort: 'canary', type: 'output' })).toBe(5);
  });

  it('puts request latency and time to first byte in seconds buckets', async () => {
    const samples = await scrape(
      await fed([
        event({ latencyMs: 100, ttfbMs: 30, stream: true }),
        event({ latencyMs: 300, ttfbMs: 50, stream: true }),
        event({ latencyMs: 1000, ttfbMs: null, stream: true }),
      ]),
    );
    const l = { channel: 'gpt-x', cohort: 'stable', stream: 'true' };
    const bucket = (name: string, le: string) => value(samples, `${name}_bucket`, { ...l, le });
    const duration = 'switchyard_gateway_request_duration_seconds';
    expect(bucket(duration, '0.08')).toBe(0);
    expect(bucket(duration, '0.16')).toBe(1);
    expect(bucket(duration, '0.32')).toBe(2);
    expect(bucket(duration, '1.28')).toBe(3);
    expect(bucket(duration, '+Inf')).toBe(3);
    expect(value(samples, `${duration}_count`, l)).toBe(3);
    expect(value(samples, `${duration}_sum`, l)).toBeCloseTo(1.4, 9);
    const ttfb = 'switchyard_gateway_time_to_first_byte_seconds';
    expect(bucket(ttfb, '0.04')).toBe(1);
    expect(bucket(ttfb, '0.08')).toBe(2);
    expect(value(samples, `${ttfb}_count`, l)).toBe(2);
  });

  it('labels tenants and channels beyond their caps "other" and counts the overflow', async () => {
    const samples = await scrape(
      await fed(
        [
          event({ tenantId: 't1' }),
          event({ tenantId: 't2' }),
          event({ tenantId: 't3', channel: 'c2' }),
          event({ tenantId: 't4', channel: 'c3' }),
          event({ tenantId: 't1', channel: 'c3' }),
        ],
        { tenantLabelLimit: 2, channelLabelLimit: 2 },
      ),
    );
    const requests = samples.filter((s) => s.name === 'switchyard_gateway_requests_total');
    expect(new Set(requests.map((s) => s.labels.tenant))).toEqual(new Set(['t1', 't2', 'other']));
    expect(new Set(requests.map((s) => s.labels.channel))).toEqual(new Set(['gpt-x', 'c2', 'other']));
    expect(value(samples, 'switchyard_gateway_requests_total', { tenant: 'other', channel: 'c2' })).toBe(1);
    expect(value(samples, 'switchyard_gateway_requests_total', { tenant: 'other', channel: 'other' })).toBe(
      1,
    );
    expect(value(samples, 'switchyard_gateway_requests_total', { tenant: 't1', channel: 'other' })).toBe(1);
    expect(value(samples, 'switchyard_metrics_label_overflow_total', { label: 'tenant' })).toBe(2);
    expect(value(samples, 'switchyard_metrics_label_overflow_total', { label: 'channel' })).toBe(2);
    expect(value(samples, 'switchyard_metrics_label_values', { label: 'tenant' })).toBe(2);
  });

  it('adds up counters, histograms and label overflow over several batches', async () => {
    const metrics = new PrometheusMetrics({ processMetrics: false, tenantLabelLimit: 1 });
    const store = new ObservedTelemetryStore({ append: async () => {} });
    store.add(metrics);
    const over = { tenantId: 'late-tenant', latencyMs: 100, toolCallsChecked: 2 };
    await store.append([event({ tenantId: 't1', latencyMs: 100 }), event(over), event(over)]);
    await store.append([event(over), event({ ...over, status: 502, errorType: 'upstream_502' })]);
    await store.append([event({ ...over, latencyMs: 5000, toolCallsInvalid: 1, invalidKinds: [] })]);
    const samples = await scrape(metrics);
    const other = { tenant: 'other', channel: 'gpt-x', cohort: 'stable' };
    expect(value(samples, 'switchyard_gateway_requests_total', { ...other, code: '200' })).toBe(4);
    expect(value(samples, 'switchyard_gateway_requests_total', { ...other, code: '502' })).toBe(1);
    expect(value(samples, 'switchyard_gateway_request_errors_total', other)).toBe(1);
    expect(value(samples, 'switchyard_gateway_tool_calls_checked_total', other)).toBe(10);
    expect(value(samples, 'switchyard_gateway_tool_calls_invalid_total', { ...other, kind: 'unknown' })).toBe(
      1,
    );
    // Every observation of the over-cap tenant counts, in whichever batch it came.
    expect(value(samples, 'switchyard_metrics_label_overflow_total', { label: 'tenant' })).toBe(5);
    const h = { channel: 'gpt-x', cohort: 'stable', stream: 'false' };
    const duration = 'switchyard_gateway_request_duration_seconds';
    expect(value(samples, `${duration}_count`, h)).toBe(6);
    expect(value(samples, `${duration}_bucket`, { ...h, le: '0.16' })).toBe(5);
    expect(value(samples, `${duration}_bucket`, { ...h, le: '5.12' })).toBe(6);
    expect(value(samples, `${duration}_sum`, h)).toBeCloseTo(5.5, 9);
  });

  it('reads telemetry sink stats and rollout phases at scrape time, and counts verdicts', async () => {
    let stats: SinkStats = { accepted: 10, dropped: 2, written: 7, failed: 1, buffered: 0, lastError: null };
    let phases: Record<string, number> = { canary: 3, pending: 1 };
    const metrics = await fed([], { telemetrySink: () => stats, rolloutPhases: async () => phases });
    metrics.recordVerdict(verdict());
    metrics.recordVerdict(verdict({ outcome: 'fail' }));
    metrics.recordVerdict(verdict({ outcome: 'fail', candidateVersionId: 'v3' }));

    let samples = await scrape(metrics);
    expect(value(samples, 'switchyard_telemetry_events_total', { outcome: 'accepted' })).toBe(10);
    expect(value(samples, 'switchyard_telemetry_events_total', { outcome: 'dropped' })).toBe(2);
    expect(value(samples, 'switchyard_telemetry_events_total', { outcome: 'written' })).toBe(7);
    expect(value(samples, 'switchyard_telemetry_events_total', { outcome: 'failed' })).toBe(1);
    expect(value(samples, 'switchyard_telemetry_buffered_events')).toBe(0);
    expect(value(samples, 'switchyard_rollouts', { phase: 'canary' })).toBe(3);
    expect(value(samples, 'switchyard_rollouts', { phase: 'pending' })).toBe(1);
    expect(value(samples, 'switchyard_bets_verdicts_total', { tenant: 'alpha', outcome: 'fail' })).toBe(2);
    expect(value(samples, 'switchyard_bets_verdicts_total', { tenant: 'alpha', outcome: 'pass' })).toBe(1);

    // A later scrape shows the sources' current values, and phases no longer present disappear.
    stats = { accepted: 15, dropped: 2, written: 12, failed: 1, buffered: 3, lastError: null };
    phases = { complete: 4 };
    await app?.close();
    samples = await scrape(metrics);
    expect(value(samples, 'switchyard_telemetry_events_total', { outcome: 'accepted' })).toBe(15);
    expect(value(samples, 'switchyard_telemetry_buffered_events')).toBe(3);
    expect(value(samples, 'switchyard_rollouts', { phase: 'complete' })).toBe(4);
    expect(value(samples, 'switchyard_rollouts', { phase: 'canary' })).toBeUndefined();
  });

  it('still serves when the rollout source fails, counting and reporting the failure', async () => {
    const errors: string[] = [];
    const metrics = await fed([event()], {
      rolloutPhases: async () => {
        throw new Error('database down');
      },
      onError: (err, source) => errors.push(`${source}: ${(err as Error).message}`),
    });
    const samples = await scrape(metrics);
    expect(value(samples, 'switchyard_gateway_requests_total', { tenant: 'alpha' })).toBe(1);
    expect(samples.filter((s) => s.name === 'switchyard_rollouts')).toEqual([]);
    expect(value(samples, 'switchyard_metrics_source_errors_total', { source: 'rollouts' })).toBe(1);
    expect(errors).toEqual(['rollouts: database down']);
  });

  it('keeps each instance in its own registry, with process metrics only when asked', async () => {
    const a = await fed([event()]);
    const b = new PrometheusMetrics({ processMetrics: true });
    const aText = await a.metrics();
    const bText = await b.metrics();
    expect(value(parse(aText), 'switchyard_gateway_requests_total', { tenant: 'alpha' })).toBe(1);
    expect(value(parse(bText), 'switchyard_gateway_requests_total', { tenant: 'alpha' })).toBeUndefined();
    expect(aText).not.toContain('process_cpu_seconds_total');
    expect(bText).toContain('process_cpu_seconds_total');
    expect(bText).toContain('nodejs_eventloop_lag_seconds');
  });

  it('requires the bearer token when one is configured', async () => {
    const http = await serve(await fed([event()]), 'scrape-secret');
    const none = await http.inject({ method: 'GET', url: '/metrics' });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('unauthenticated');
    expect(none.headers['www-authenticate']).toContain('Bearer');
    const wrong = await http.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: 'Bearer scrape-secreT' },
    });
    expect(wrong.statusCode).toBe(401);
    const right = await http.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: 'Bearer scrape-secret' },
    });
    expect(right.statusCode).toBe(200);
    expect(value(parse(right.body), 'switchyard_gateway_requests_total', { tenant: 'alpha' })).toBe(1);
  });
});
