/**
 * Per-minute behavioural rollups: what the gateway's telemetry, the feedback endpoint and the
 * shadow judge add up to, per (minute, tenant, channel, version, cohort). Every field is a count
 * or a sum, and latency is a mergeable sketch, so any window, any set of writers and any step is
 * the merge of its rows.
 */
export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/**
 * A row's cohort: `stable` and `canary` as routed; `shadow` holds judge scores of shadow pairs
 * (the candidate's answer to a request served by stable). `''` means unknown (no version reached).
 */
export type RollupCohort = 'stable' | 'canary' | 'shadow' | '';

export interface RollupKey {
  /** Start of the minute, epoch ms (a multiple of 60 000). */
  readonly minuteMs: number;
  readonly tenantId: string;
  /** `''` when the request named no known channel. */
  readonly channel: string;
  /** `''` when no version was reached. */
  readonly versionId: string;
  readonly cohort: RollupCohort;
}

export interface RollupCounts {
  requests: number;
  /** Requests that failed: 5xx, or an error after a successful start (stream cut, invalid call). */
  errors: number;
  toolCallsChecked: number;
  toolCallsInvalid: number;
  /** Violation kind → number of invalid calls of that kind. */
  invalidKinds: Record<string, number>;
  toolCallsCoerced: number;
  /** Answers checked against an output format contract, and how many met it. */
  formatChecked: number;
  formatValid: number;
  /** Feedback reports with an outcome, and how many said failure. */
  tasksReported: number;
  tasksFailed: number;
  /** Feedback reports, those reporting at least one downstream error, and the errors' sum. */
  downstreamReports: number;
  downstreamErrorReports: number;
  downstreamErrors: number;
  /** Judge similarity moments of sampled candidate/stable pairs. */
  judgeN: number;
  judgeSum: number;
  judgeSumSq: number;
  /** When the newest request or feedback of this row completed (epoch ms); null if none. */
  lastEventMs: number | null;
}

/** One stored row: a writer's contribution to a key, with its latency sketches as text. */
export interface RollupRow extends RollupKey, RollupCounts {
  readonly writerId: string;
  readonly flushId: number;
  /** `encodeSketch` text of request latency (ms), null when the row has no requests. */
  readonly latency: string | null;
  readonly ttfb: string | null;
}

/** What one writer hands the store in one transaction. */
export interface RollupFlush {
  readonly writerId: string;
  /** Increases per flush of a writer; (writer, flush, key) is unique, so a retried flush that
   * had in fact committed is recognised by its unique violation and not counted twice. */
  readonly flushId: number;
  readonly rows: readonly RollupRow[];
  /** Every minute before this has been flushed by this writer (its heartbeat). */
  readonly closedThroughMs: number;
  readonly atMs: number;
}

export interface RollupReadQuery {
  /** Omitted: every tenant (the fleet summary). */
  readonly tenantId?: string;
  /** Minutes with fromMs <= minute < toMs. */
  readonly fromMs: number;
  readonly toMs: number;
  readonly channel?: string;
  readonly versionIds?: readonly string[];
  readonly cohort?: RollupCohort;
}

/** A writer's heartbeat: when it last flushed, and through which minute it has flushed all. */
export interface RollupWriterState {
  readonly writerId: string;
  readonly lastFlushMs: number;
  readonly closedThroughMs: number;
}

/** Where rollups are kept (port); `SqlRollupStore` is the SQL adapter. */
export interface RollupStore {
  /** Writes the rows and the writer's heartbeat in one transaction. */
  append(flush: RollupFlush): Promise<void>;
  read(q: RollupReadQuery): Promise<RollupRow[]>;
  writers(): Promise<RollupWriterState[]>;
}

export function emptyCounts(): RollupCounts {
  return {
    requests: 0,
    errors: 0,
    toolCallsChecked: 0,
    toolCallsInvalid: 0,
    invalidKinds: {},
    toolCallsCoerced: 0,
    formatChecked: 0,
    formatValid: 0,
    tasksReported: 0,
    tasksFailed: 0,
    downstreamReports: 0,
    downstreamErrorReports: 0,
    downstreamErrors: 0,
    judgeN: 0,
    judgeSum: 0,
    judgeSumSq: 0,
    lastEventMs: null,
  };
}

/** Adds b into a (counts are additive; the newest event wins). */
export function addInto(a: RollupCounts, b: RollupCounts): void {
  a.requests += b.requests;
  a.errors += b.errors;
  a.toolCallsChecked += b.toolCallsChecked;
  a.toolCallsInvalid += b.toolCallsInvalid;
  for (const [kind, n] of Object.entries(b.invalidKinds))
    a.invalidKinds[kind] = (a.invalidKinds[kind] ?? 0) + n;
  a.toolCallsCoerced += b.toolCallsCoerced;
  a.formatChecked += b.formatChecked;
  a.formatValid += b.formatValid;
  a.tasksReported += b.tasksReported;
  a.tasksFailed += b.tasksFailed;
  a.downstreamReports += b.downstreamReports;
  a.downstreamErrorReports += b.downstreamErrorReports;
  a.downstreamErrors += b.downstreamErrors;
  a.judgeN += b.judgeN;
  a.judgeSum += b.judgeSum;
  a.judgeSumSq += b.judgeSumSq;
  if (b.lastEventMs !== null && (a.lastEventMs === null || b.lastEventMs > a.lastEventMs)) {
    a.lastEventMs = b.lastEventMs;
  }
}

/** UTC date of an instant, `YYYY-MM-DD`: the partition and retention unit. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function minuteOf(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}
