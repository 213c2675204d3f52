import type { SqlDatabase, SqlParam } from '../../storage/sql-database.js';
import {
  dayOf,
  type RollupCohort,
  type RollupFlush,
  type RollupReadQuery,
  type RollupRow,
  type RollupStore,
  type RollupWriterState,
} from './rollup-types.js';

const COLUMNS = [
  'day',
  'minute_ms',
  'tenant_id',
  'channel',
  'version_id',
  'cohort',
  'writer_id',
  'flush_id',
  'requests',
  'errors',
  'tool_calls_checked',
  'tool_calls_invalid',
  'invalid_kinds',
  'tool_calls_coerced',
  'format_checked',
  'format_valid',
  'tasks_reported',
  'tasks_failed',
  'downstream_reports',
  'downstream_error_reports',
  'downstream_errors',
  'judge_n',
  'judge_sum',
  'judge_sum_sq',
  'latency',
  'ttfb',
  'last_event_ms',
] as const;

/** Rows per INSERT: 27 parameters each stays far below both dialects' parameter limits. */
const CHUNK = 250;
const ROW = `(${COLUMNS.map(() => '?').join(', ')})`;

interface Row {
  minute_ms: number | string;
  tenant_id: string;
  channel: string;
  version_id: string;
  cohort: RollupCohort;
  writer_id: string;
  flush_id: number | string;
  requests: number;
  errors: number;
  tool_calls_checked: number;
  tool_calls_invalid: number;
  invalid_kinds: string;
  tool_calls_coerced: number;
  format_checked: number;
  format_valid: number;
  tasks_reported: number;
  tasks_failed: number;
  downstream_reports: number;
  downstream_error_reports: number;
  downstream_errors: number | string;
  judge_n: number;
  judge_sum: number;
  judge_sum_sq: number;
  latency: string | null;
  ttfb: string | null;
  last_event_ms: number | string | null;
}

function params(r: RollupRow, out: SqlParam[]): void {
  out.push(
    dayOf(r.minuteMs),
    r.minuteMs,
    r.tenantId,
    r.channel,
    r.versionId,
    r.cohort,
    r.writerId,
    r.flushId,
    r.requests,
    r.errors,
    r.toolCallsChecked,
    r.toolCallsInvalid,
    JSON.stringify(r.invalidKinds),
    r.toolCallsCoerced,
    r.formatChecked,
    r.formatValid,
    r.tasksReported,
    r.tasksFailed,
    r.downstreamReports,
    r.downstreamErrorReports,
    r.downstreamErrors,
    r.judgeN,
    r.judgeSum,
    r.judgeSumSq,
    r.latency,
    r.ttfb,
    r.lastEventMs,
  );
}

function fromRow(r: Row): RollupRow {
  return {
    minuteMs: Number(r.minute_ms),
    tenantId: r.tenant_id,
    channel: r.channel,
    versionId: r.version_id,
    cohort: r.cohort,
    writerId: r.writer_id,
    flushId: Number(r.flush_id),
    requests: Number(r.requests),
    errors: Number(r.errors),
    toolCallsChecked: Number(r.tool_calls_checked),
    toolCallsInvalid: Number(r.tool_calls_invalid),
    invalidKinds: JSON.parse(r.invalid_kinds) as Record<string, number>,
    toolCallsCoerced: Number(r.tool_calls_coerced),
    formatChecked: Number(r.format_checked),
    formatValid: Number(r.format_valid),
    tasksReported: Number(r.tasks_reported),
    tasksFailed: Number(r.tasks_failed),
    downstreamReports: Number(r.downstream_reports),
    downstreamErrorReports: Number(r.downstream_error_reports),
    downstreamErrors: Number(r.downstream_errors),
    judgeN: Number(r.judge_n),
    judgeSum: Number(r.judge_sum),
    judgeSumSq: Number(r.judge_sum_sq),
    latency: r.latency,
    ttfb: r.ttfb,
    lastEventMs: r.last_event_ms === null ? null : Number(r.last_event_ms),
  };
}

/**
 * Rollups over the SQL port. Rows are only ever inserted (each writer's flush is a delta), so
 * several processes writing the same minute never contend on a row; readers merge. A flush and
 * its writer's heartbeat commit together.
 */
export class SqlRollupStore implements RollupStore {
  constructor(private readonly db: SqlDatabase) {}

  async append(f: RollupFlush): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (let i = 0; i < f.rows.length; i += CHUNK) {
        const part = f.rows.slice(i, i + CHUNK);
        const values: SqlParam[] = [];
        for (const r of part) params(r, values);
        await tx.run(
          `INSERT INTO telemetry_rollups (${COLUMNS.join(', ')}) VALUES ${part.map(() => ROW).join(', ')}`,
          values,
        );
      }
      // The heartbeat only moves forward (an older flush retried late must not move it back).
      await tx.run(
        `INSERT INTO telemetry_rollup_writers (writer_id, last_flush_ms, closed_through_ms) VALUES (?, ?, ?)
         ON CONFLICT (writer_id) DO UPDATE SET
           last_flush_ms = CASE WHEN excluded.last_flush_ms > telemetry_rollup_writers.last_flush_ms
             THEN excluded.last_flush_ms ELSE telemetry_rollup_writers.last_flush_ms END,
           closed_through_ms = CASE WHEN excluded.closed_through_ms > telemetry_rollup_writers.closed_through_ms
             THEN excluded.closed_through_ms ELSE telemetry_rollup_writers.closed_through_ms END`,
        [f.writerId, f.atMs, f.closedThroughMs],
      );
    });
  }

  async read(q: RollupReadQuery): Promise<RollupRow[]> {
    // `day` bounds let PostgreSQL prune partitions; minute bounds are the real filter.
    const where = ['day >= ?', 'day <= ?', 'minute_ms >= ?', 'minute_ms < ?'];
    const values: SqlParam[] = [dayOf(q.fromMs), dayOf(Math.max(q.fromMs, q.toMs - 1)), q.fromMs, q.toMs];
    if (q.tenantId !== undefined) {
      where.push('tenant_id = ?');
      values.push(q.tenantId);
    }
    if (q.channel !== undefined) {
      where.push('channel = ?');
      values.push(q.channel);
    }
    if (q.versionIds !== undefined) {
      if (q.versionIds.length === 0) return [];
      where.push(`version_id IN (${q.versionIds.map(() => '?').join(', ')})`);
      values.push(...q.versionIds);
    }
    if (q.cohort !== undefined) {
      where.push('cohort = ?');
      values.push(q.cohort);
    }
    const rows = await this.db.all<Row>(
      `SELECT ${COLUMNS.slice(1).join(', ')} FROM telemetry_rollups WHERE ${where.join(' AND ')}
       ORDER BY minute_ms, tenant_id, channel, version_id, cohort, writer_id, flush_id`,
      values,
    );
    return rows.map(fromRow);
  }

  async writers(): Promise<RollupWriterState[]> {
    const rows = await this.db.all<{
      writer_id: string;
      last_flush_ms: number | string;
      closed_through_ms: number | string;
    }>('SELECT writer_id, last_flush_ms, closed_through_ms FROM telemetry_rollup_writers ORDER BY writer_id');
    return rows.map((r) => ({
      writerId: r.writer_id,
      lastFlushMs: Number(r.last_flush_ms),
      closedThroughMs: Number(r.closed_through_ms),
    }));
  }
}
