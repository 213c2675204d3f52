import type { TelemetryEvent } from '../telemetry-event.js';
import type { HistogramSeries } from './batch-histogram.js';

/** Groups kept between batches at most (they are only a cache of label lookups). */
export const MAX_GROUPS = 20_000;

/** Invalid tool calls counted without a named kind (exported as kind `unknown`). */
export const UNNAMED_KIND = '\u0000unnamed';

/**
 * One (tenant, channel, cohort)'s request metrics over a batch, as plain numbers: folding an event
 * is a few additions and at most a small-map update, with no label objects. The Prometheus
 * observer adds the sums to its counters once per batch and zeroes them.
 */
export interface RequestGroup {
  /** The bounded label values (tenant and channel may be `other`). */
  readonly labels: { tenant: string; channel: string; cohort: string };
  /** Whether the tenant or channel label is `other` because its cap was reached. */
  readonly overflow: { tenant: boolean; channel: boolean };
  /** Duration and TTFB series, index 0 plain, 1 streaming. */
  readonly duration: readonly [HistogramSeries, HistogramSeries];
  readonly ttfb: readonly [HistogramSeries, HistogramSeries];
  /** Has been flushed at least once (its first event's overflow was counted at creation). */
  flushed: boolean;
  events: number;
  /** By status * 2 + (stream ? 1 : 0). */
  readonly requests: Map<number, number>;
  readonly errors: Map<string, number>;
  readonly fallbacks: Map<string, number>;
  readonly invalidKinds: Map<string, number>;
  readonly policyActions: Map<string, number>;
  sessionResets: number;
  shadowed: number;
  toolCallsChecked: number;
  toolCallsCoerced: number;
  formatValid: number;
  formatInvalid: number;
  inputTokens: number;
  outputTokens: number;
}

export function newGroup(
  labels: RequestGroup['labels'],
  overflow: RequestGroup['overflow'],
  duration: RequestGroup['duration'],
  ttfb: RequestGroup['ttfb'],
): RequestGroup {
  return {
    labels,
    overflow,
    duration,
    ttfb,
    flushed: false,
    events: 0,
    requests: new Map(),
    errors: new Map(),
    fallbacks: new Map(),
    invalidKinds: new Map(),
    policyActions: new Map(),
    sessionResets: 0,
    shadowed: 0,
    toolCallsChecked: 0,
    toolCallsCoerced: 0,
    formatValid: 0,
    formatInvalid: 0,
    inputTokens: 0,
    outputTokens: 0,
  };
}

const add = <K>(m: Map<K, number>, k: K, n: number) => m.set(k, (m.get(k) ?? 0) + n);

export function fold(g: RequestGroup, e: TelemetryEvent): void {
  g.events++;
  const stream = e.stream ? 1 : 0;
  add(g.requests, e.status * 2 + stream, 1);
  if (e.errorType !== null) add(g.errors, e.errorType, 1);
  // Histograms are cumulative series of their own (never zeroed): observed directly.
  g.duration[stream].observe(e.latencyMs / 1000);
  if (e.ttfbMs !== null) g.ttfb[stream].observe(e.ttfbMs / 1000);
  if (e.fallback !== null) add(g.fallbacks, e.fallback, 1);
  if (e.sessionReset) g.sessionResets++;
  if (e.shadowed) g.shadowed++;
  g.toolCallsChecked += e.toolCallsChecked;
  if (e.toolCallsInvalid > 0) {
    // One kind per invalid call; a call counted invalid without a kind is labelled `unknown`.
    for (const k of e.invalidKinds) add(g.invalidKinds, k, 1);
    const unnamed = e.toolCallsInvalid - e.invalidKinds.length;
    if (unnamed > 0) add(g.invalidKinds, UNNAMED_KIND, unnamed);
  }
  g.toolCallsCoerced += e.toolCallsCoerced;
  if (e.formatValid === true) g.formatValid++;
  else if (e.formatValid === false) g.formatInvalid++;
  if (e.policyAction !== null) add(g.policyActions, e.policyAction, 1);
  if (e.inputTokens) g.inputTokens += e.inputTokens;
  if (e.outputTokens) g.outputTokens += e.outputTokens;
}

export function resetGroup(g: RequestGroup): void {
  g.events = 0;
  g.requests.clear();
  g.errors.clear();
  g.fallbacks.clear();
  g.invalidKinds.clear();
  g.policyActions.clear();
  g.sessionResets = 0;
  g.shadowed = 0;
  g.toolCallsChecked = 0;
  g.toolCallsCoerced = 0;
  g.formatValid = 0;
  g.formatInvalid = 0;
  g.inputTokens = 0;
  g.outputTokens = 0;
}
