/**
 * Synthetic per-minute rollups for dashboard tests and the benchmark: what the gateway's
 * aggregator would have written for a tenant's canary and control cohorts, with chosen rates,
 * written through the real rollup store (with a writer heartbeat, so the minutes are settled).
 * Production code never imports this file.
 */
import { acceptLatency, encodeSketch, newSketch } from '../../telemetry/rollups/latency-sketch.js';
import {
  emptyCounts,
  MINUTE_MS,
  type RollupCohort,
  type RollupRow,
  type RollupStore,
} from '../../telemetry/rollups/rollup-types.js';

export interface CohortShape {
  requests: number;
  errorRate?: number;
  toolCallInvalidRate?: number;
  coercionRate?: number;
  taskFailureRate?: number;
  judgeMean?: number;
  latencyMs?: number;
}

export interface SyntheticCohort {
  tenantId: string;
  channel: string;
  versionId: string;
  cohort: RollupCohort;
  /** The shape of minute `m` (epoch ms of its start). */
  shape: (minuteMs: number) => CohortShape;
}

function rowOf(c: SyntheticCohort, minuteMs: number, writerId: string, flushId: number): RollupRow {
  const s = c.shape(minuteMs);
  const n = s.requests;
  const counts = emptyCounts();
  counts.requests = n;
  counts.errors = Math.round(n * (s.errorRate ?? 0));
  counts.toolCallsChecked = n;
  counts.toolCallsInvalid = Math.round(n * (s.toolCallInvalidRate ?? 0));
  if (counts.toolCallsInvalid > 0) counts.invalidKinds = { type: counts.toolCallsInvalid };
  counts.toolCallsCoerced = Math.round(n * (s.coercionRate ?? 0));
  counts.tasksReported = Math.round(n / 4);
  counts.tasksFailed = Math.round(counts.tasksReported * (s.taskFailureRate ?? 0));
  if (s.judgeMean !== undefined) {
    counts.judgeN = Math.max(1, Math.round(n / 20));
    counts.judgeSum = counts.judgeN * s.judgeMean;
    counts.judgeSumSq = counts.judgeN * s.judgeMean * s.judgeMean;
  }
  counts.lastEventMs = n > 0 ? minuteMs + 59_000 : null;
  let latency: string | null = null;
  if (n > 0) {
    const sketch = newSketch();
    const median = s.latencyMs ?? 400;
    // A spread around the median whose tail (p99) is about three times it.
    for (let i = 0; i < Math.min(n, 50); i++)
      acceptLatency(sketch, median * (0.6 + (i % 10) * 0.08) * (i === 49 ? 3 : 1));
    latency = encodeSketch(sketch);
  }
  return {
    minuteMs,
    tenantId: c.tenantId,
    channel: c.channel,
    versionId: c.versionId,
    cohort: c.cohort,
    ...counts,
    writerId,
    flushId,
    latency,
    ttfb: latency,
  };
}

let flushSeq = 0;

/** Writes every minute in [fromMs, toMs) of each cohort, and a heartbeat closing them all. */
export async function writeSyntheticRollups(
  store: RollupStore,
  cohorts: readonly SyntheticCohort[],
  fromMs: number,
  toMs: number,
  writerId = 'synthetic',
): Promise<number> {
  const start = Math.ceil(fromMs / MINUTE_MS) * MINUTE_MS;
  const rows: RollupRow[] = [];
  const flushId = ++flushSeq;
  for (const c of cohorts) {
    for (let m = start; m + MINUTE_MS <= toMs; m += MINUTE_MS) rows.push(rowOf(c, m, writerId, flushId));
  }
  const closed = Math.floor(toMs / MINUTE_MS) * MINUTE_MS;
  await store.append({ writerId, flushId, rows, closedThroughMs: closed, atMs: toMs });
  return rows.length;
}
