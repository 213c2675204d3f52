import { decodeSketch, type LatencySketch, mergeInto, newSketch, quantile } from './latency-sketch.js';
import {
  addInto,
  emptyCounts,
  type RollupCohort,
  type RollupCounts,
  type RollupRow,
  type RollupStore,
} from './rollup-types.js';

/** Rows merged: summed counts and merged latency sketches. */
export interface MergedRollup {
  counts: RollupCounts;
  latency: LatencySketch;
  ttfb: LatencySketch;
}

export function emptyMerged(): MergedRollup {
  return { counts: emptyCounts(), latency: newSketch(), ttfb: newSketch() };
}

export function mergeRow(into: MergedRollup, row: RollupRow): void {
  addInto(into.counts, row);
  if (row.latency !== null) mergeInto(into.latency, decodeSketch(row.latency));
  if (row.ttfb !== null) mergeInto(into.ttfb, decodeSketch(row.ttfb));
}

export interface QuantilesView {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export function quantilesOf(s: LatencySketch): QuantilesView {
  return { count: s.count, p50: quantile(s, 0.5), p95: quantile(s, 0.95), p99: quantile(s, 0.99) };
}

const rate = (events: number, trials: number): number | null => (trials > 0 ? events / trials : null);

/** The API's view of merged rollups: counts, the rates the controller compares, and quantiles. */
export interface MetricsPoint {
  start: string;
  requests: number;
  errors: number;
  errorRate: number | null;
  toolCalls: {
    checked: number;
    invalid: number;
    invalidRate: number | null;
    coerced: number;
    coercionRate: number | null;
    invalidKinds: Record<string, number>;
  };
  format: { checked: number; valid: number; validRate: number | null };
  tasks: { reported: number; failed: number; failureRate: number | null };
  downstream: { reports: number; errorReports: number; errors: number; errorRate: number | null };
  judge: { n: number; mean: number | null; sd: number | null };
  latencyMs: QuantilesView;
  ttfbMs: QuantilesView;
}

export function pointOf(startMs: number, m: MergedRollup): MetricsPoint {
  const c = m.counts;
  const mean = c.judgeN > 0 ? c.judgeSum / c.judgeN : null;
  const sd =
    c.judgeN > 1 && mean !== null
      ? Math.sqrt(Math.max(0, (c.judgeSumSq - c.judgeN * mean * mean) / (c.judgeN - 1)))
      : null;
  return {
    start: new Date(startMs).toISOString(),
    requests: c.requests,
    errors: c.errors,
    errorRate: rate(c.errors, c.requests),
    toolCalls: {
      checked: c.toolCallsChecked,
      invalid: c.toolCallsInvalid,
      invalidRate: rate(c.toolCallsInvalid, c.toolCallsChecked),
      coerced: c.toolCallsCoerced,
      coercionRate: rate(c.toolCallsCoerced, c.toolCallsChecked),
      invalidKinds: c.invalidKinds,
    },
    format: {
      checked: c.formatChecked,
      valid: c.formatValid,
      validRate: rate(c.formatValid, c.formatChecked),
    },
    tasks: {
      reported: c.tasksReported,
      failed: c.tasksFailed,
      failureRate: rate(c.tasksFailed, c.tasksReported),
    },
    downstream: {
      reports: c.downstreamReports,
      errorReports: c.downstreamErrorReports,
      errors: c.downstreamErrors,
      errorRate: rate(c.downstreamErrorReports, c.downstreamReports),
    },
    judge: { n: c.judgeN, mean, sd },
    latencyMs: quantilesOf(m.latency),
    ttfbMs: quantilesOf(m.ttfb),
  };
}

export interface MetricsQuery {
  tenantId: string;
  fromMs: number;
  toMs: number;
  /** A whole number of minutes, in ms. Steps are aligned to multiples of the step since the epoch. */
  stepMs: number;
  channel?: string;
  versionId?: string;
  cohort?: RollupCohort;
}

export interface MetricsSeries {
  channel: string;
  versionId: string;
  cohort: RollupCohort;
  /** Steps that had any data, oldest first. */
  points: MetricsPoint[];
}

/**
 * A tenant's series per (channel, version, cohort) at `stepMs`: every writer's rows of every
 * minute in a step merged (counts summed, sketches merged, so quantiles are of the whole step).
 */
export async function metricsSeries(store: RollupStore, q: MetricsQuery): Promise<MetricsSeries[]> {
  const rows = await store.read({
    tenantId: q.tenantId,
    fromMs: q.fromMs,
    toMs: q.toMs,
    ...(q.channel !== undefined ? { channel: q.channel } : {}),
    ...(q.versionId !== undefined ? { versionIds: [q.versionId] } : {}),
    ...(q.cohort !== undefined ? { cohort: q.cohort } : {}),
  });
  const series = new Map<string, { s: MetricsSeries; steps: Map<number, MergedRollup> }>();
  for (const row of rows) {
    const id = `${row.channel}\u0000${row.versionId}\u0000${row.cohort}`;
    let entry = series.get(id);
    if (!entry) {
      entry = {
        s: { channel: row.channel, versionId: row.versionId, cohort: row.cohort, points: [] },
        steps: new Map(),
      };
      series.set(id, entry);
    }
    const step = Math.floor(row.minuteMs / q.stepMs) * q.stepMs;
    let merged = entry.steps.get(step);
    if (!merged) {
      merged = emptyMerged();
      entry.steps.set(step, merged);
    }
    mergeRow(merged, row);
  }
  const out: MetricsSeries[] = [];
  for (const { s, steps } of series.values()) {
    s.points = [...steps.entries()].sort((a, b) => a[0] - b[0]).map(([start, m]) => pointOf(start, m));
    out.push(s);
  }
  return out.sort(
    (a, b) =>
      a.channel.localeCompare(b.channel) ||
      a.versionId.localeCompare(b.versionId) ||
      a.cohort.localeCompare(b.cohort),
  );
}

export interface FleetCohortSummary {
  versionIds: string[];
  requests: number;
  errorRate: number | null;
  toolCallInvalidRate: number | null;
  coercionRate: number | null;
  taskFailureRate: number | null;
  downstreamErrorRate: number | null;
  latencyMs: QuantilesView;
}

export interface FleetTenantSummary {
  tenantId: string;
  channel: string;
  /** Sessions routed to the candidate. */
  canary: FleetCohortSummary;
  /** Sessions on stable (the control). */
  control: FleetCohortSummary;
  /** Judge similarity of the candidate's sampled pairs (canary and shadow). */
  judge: { n: number; mean: number | null };
}

function cohortSummary(m: MergedRollup, versions: Set<string>): FleetCohortSummary {
  const c = m.counts;
  return {
    versionIds: [...versions].sort(),
    requests: c.requests,
    errorRate: rate(c.errors, c.requests),
    toolCallInvalidRate: rate(c.toolCallsInvalid, c.toolCallsChecked),
    coercionRate: rate(c.toolCallsCoerced, c.toolCallsChecked),
    taskFailureRate: rate(c.tasksFailed, c.tasksReported),
    downstreamErrorRate: rate(c.downstreamErrorReports, c.downstreamReports),
    latencyMs: quantilesOf(m.latency),
  };
}

/**
 * The dashboard's fleet view: per tenant and channel, the last `minutes` whole minutes before
 * `nowMs` (the current, still open minute excluded), canary against control.
 */
export async function fleetSummary(
  store: RollupStore,
  opts: { nowMs: number; minutes: number },
): Promise<FleetTenantSummary[]> {
  const toMs = Math.floor(opts.nowMs / 60_000) * 60_000;
  const rows = await store.read({ fromMs: toMs - opts.minutes * 60_000, toMs });
  interface Acc {
    canary: MergedRollup;
    control: MergedRollup;
    canaryVersions: Set<string>;
    controlVersions: Set<string>;
    judgeN: number;
    judgeSum: number;
  }
  const byTenant = new Map<string, Acc & { tenantId: string; channel: string }>();
  for (const row of rows) {
    if (row.channel === '') continue;
    const id = `${row.tenantId}\u0000${row.channel}`;
    let acc = byTenant.get(id);
    if (!acc) {
      acc = {
        tenantId: row.tenantId,
        channel: row.channel,
        canary: emptyMerged(),
        control: emptyMerged(),
        canaryVersions: new Set(),
        controlVersions: new Set(),
        judgeN: 0,
        judgeSum: 0,
      };
      byTenant.set(id, acc);
    }
    acc.judgeN += row.judgeN;
    acc.judgeSum += row.judgeSum;
    if (row.cohort === 'canary') {
      mergeRow(acc.canary, row);
      if (row.requests > 0) acc.canaryVersions.add(row.versionId);
    } else if (row.cohort === 'stable') {
      mergeRow(acc.control, row);
      if (row.requests > 0) acc.controlVersions.add(row.versionId);
    }
  }
  return [...byTenant.values()]
    .sort((a, b) => a.tenantId.localeCompare(b.tenantId) || a.channel.localeCompare(b.channel))
    .map((a) => ({
      tenantId: a.tenantId,
      channel: a.channel,
      canary: cohortSummary(a.canary, a.canaryVersions),
      control: cohortSummary(a.control, a.controlVersions),
      judge: { n: a.judgeN, mean: a.judgeN > 0 ? a.judgeSum / a.judgeN : null },
    }));
}
