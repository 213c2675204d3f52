import type { SqlDatabase, SqlParam } from '../storage/sql-database.js';
import type { TelemetryEvent, TelemetryEventStore } from './telemetry-event.js';

/** The columns of an inserted event, in the order `eventParams` writes them. */
export const EVENT_COLUMNS = [
  'day',
  'at_ms',
  'request_id',
  'tenant_id',
  'key_id',
  'session_id',
  'channel',
  'version_id',
  'cohort',
  'wire',
  'stream',
  'status',
  'error_type',
  'fallback',
  'session_reset',
  'tool_names',
  'latency_ms',
  'ttfb_ms',
  'input_tokens',
  'output_tokens',
  'prompt_hash',
  'shadowed',
  'task_id',
  'tool_calls_checked',
  'tool_calls_invalid',
  'invalid_kinds',
  'tool_calls_coerced',
  'format_valid',
  'policy_action',
] as const;

/** Rows per INSERT: 29 parameters each keeps a statement well under both dialects' limits. */
export const CHUNK = 200;
const ROW = `(${EVENT_COLUMNS.map(() => '?').join(', ')})`;

interface EventRow {
  at_ms: number | string;
  request_id: string;
  tenant_id: string;
  key_id: string;
  session_id: string | null;
  channel: string | null;
  version_id: string | null;
  cohort: 'stable' | 'canary' | null;
  wire: 'openai' | 'anthropic';
  stream: number;
  status: number;
  error_type: string | null;
  fallback: string | null;
  session_reset: number;
  tool_names: string;
  latency_ms: number;
  ttfb_ms: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  prompt_hash: string | null;
  shadowed: number;
  task_id: string | null;
  tool_calls_checked: number;
  tool_calls_invalid: number;
  invalid_kinds: string;
  tool_calls_coerced: number;
  format_valid: number | null;
  policy_action: TelemetryEvent['policyAction'];
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

const DAY_MS = 86_400_000;
/** The UTC day of the last event seen: almost every event of a batch falls in it. */
let dayCache = { startMs: 0, day: '1970-01-01' };
function dayOf(atMs: number): string {
  if (atMs < dayCache.startMs || atMs >= dayCache.startMs + DAY_MS) {
    const startMs = Math.floor(atMs / DAY_MS) * DAY_MS;
    dayCache = { startMs, day: new Date(startMs).toISOString().slice(0, 10) };
  }
  return dayCache.day;
}

/** Appends an event's column values to `out`, in `EVENT_COLUMNS` order. */
export function eventParams(e: TelemetryEvent, out: SqlParam[]): void {
  out.push(
    dayOf(e.atMs),
    e.atMs,
    e.requestId,
    e.tenantId,
    e.keyId,
    e.sessionId,
    e.channel,
    e.versionId,
    e.cohort,
    e.wire,
    e.stream ? 1 : 0,
    e.status,
    e.errorType,
    e.fallback,
    e.sessionReset ? 1 : 0,
    e.toolNames.length === 0 ? '[]' : JSON.stringify(e.toolNames),
    round3(e.latencyMs),
    e.ttfbMs === null ? null : round3(e.ttfbMs),
    e.inputTokens,
    e.outputTokens,
    e.promptHash,
    e.shadowed ? 1 : 0,
    e.taskId,
    e.toolCallsChecked,
    e.toolCallsInvalid,
    e.invalidKinds.length === 0 ? '[]' : JSON.stringify(e.invalidKinds),
    e.toolCallsCoerced,
    e.formatValid === null ? null : e.formatValid ? 1 : 0,
    e.policyAction,
  );
}

/** Telemetry events over the SQL port: multi-row inserts, one transaction per batch. */
export class SqlTelemetryEventStore implements TelemetryEventStore {
  constructor(private readonly db: SqlDatabase) {}

  async append(events: readonly TelemetryEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (let i = 0; i < events.length; i += CHUNK) {
        const part = events.slice(i, i + CHUNK);
        const values: SqlParam[] = [];
        for (const e of part) eventParams(e, values);
        await tx.run(
          `INSERT INTO telemetry_events (${EVENT_COLUMNS.join(', ')}) VALUES ${part.map(() => ROW).join(', ')}`,
          values,
        );
      }
    });
  }

  /** A tenant's most recent events, newest first (for the dashboard, the controller and tests). */
  async recent(tenantId: string, limit: number): Promise<TelemetryEvent[]> {
    const rows = await this.db.all<EventRow>(
      `SELECT ${EVENT_COLUMNS.slice(1).join(', ')} FROM telemetry_events WHERE tenant_id = ? ORDER BY seq DESC LIMIT ?`,
      [tenantId, limit],
    );
    return rows.map((r) => ({
      atMs: Number(r.at_ms),
      requestId: r.request_id,
      tenantId: r.tenant_id,
      keyId: r.key_id,
      sessionId: r.session_id,
      channel: r.channel,
      versionId: r.version_id,
      cohort: r.cohort,
      wire: r.wire,
      stream: r.stream === 1,
      status: r.status,
      errorType: r.error_type,
      fallback: r.fallback,
      sessionReset: r.session_reset === 1,
      toolNames: JSON.parse(r.tool_names) as string[],
      latencyMs: r.latency_ms,
      ttfbMs: r.ttfb_ms,
      inputTokens: r.input_tokens,
      outputTokens: r.output_tokens,
      promptHash: r.prompt_hash,
      shadowed: r.shadowed === 1,
      taskId: r.task_id,
      toolCallsChecked: Number(r.tool_calls_checked),
      toolCallsInvalid: Number(r.tool_calls_invalid),
      invalidKinds: JSON.parse(r.invalid_kinds) as string[],
      toolCallsCoerced: Number(r.tool_calls_coerced),
      formatValid: r.format_valid === null ? null : r.format_valid === 1,
      policyAction: r.policy_action,
    }));
  }
}
