import type { SqlDatabase, SqlParam } from '../../storage/sql-database.js';
import type { ParsedToolCall, WireKind } from '../wire/wire-format.js';

/** One side of a shadow pair: what a version answered to the request. */
export interface ShadowSide {
  versionId: string;
  /** HTTP status, or null when no answer arrived. */
  status: number | null;
  error: string | null;
  text: string | null;
  toolCalls: ParsedToolCall[];
  latencyMs: number | null;
}

/** The stable answer (which the client got) and the candidate's answer to the same request. */
export interface ShadowResult {
  id: string;
  atMs: number;
  tenantId: string;
  sessionId: string;
  channel: string;
  requestId: string;
  promptHash: string | null;
  wire: WireKind;
  stable: ShadowSide;
  candidate: ShadowSide;
}

/** Where shadow pairs are kept for comparison (port); `SqlShadowResultSink` is the SQL adapter. */
export interface ShadowResultSink {
  append(results: readonly ShadowResult[]): Promise<void>;
}

const COLUMNS = [
  'id',
  'day',
  'at_ms',
  'tenant_id',
  'session_id',
  'channel',
  'request_id',
  'prompt_hash',
  'wire',
  'stable_version_id',
  'stable_status',
  'stable_error',
  'stable_text',
  'stable_tool_calls',
  'stable_latency_ms',
  'candidate_version_id',
  'candidate_status',
  'candidate_error',
  'candidate_text',
  'candidate_tool_calls',
  'candidate_latency_ms',
] as const;
const ROW = `(${COLUMNS.map(() => '?').join(', ')})`;
const CHUNK = 200;

function sideParams(s: ShadowSide): SqlParam[] {
  return [s.versionId, s.status, s.error, s.text, JSON.stringify(s.toolCalls), s.latencyMs];
}

type Row = Record<(typeof COLUMNS)[number], string | number | null>;

function side(r: Row, prefix: 'stable' | 'candidate'): ShadowSide {
  const status = r[`${prefix}_status`];
  const latency = r[`${prefix}_latency_ms`];
  return {
    versionId: String(r[`${prefix}_version_id`]),
    status: status === null ? null : Number(status),
    error: r[`${prefix}_error`] as string | null,
    text: r[`${prefix}_text`] as string | null,
    toolCalls: JSON.parse(String(r[`${prefix}_tool_calls`])) as ParsedToolCall[],
    latencyMs: latency === null ? null : Number(latency),
  };
}

/** Shadow pairs over the SQL port (table from the gateway migration). */
export class SqlShadowResultSink implements ShadowResultSink {
  constructor(private readonly db: SqlDatabase) {}

  async append(results: readonly ShadowResult[]): Promise<void> {
    if (results.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (let i = 0; i < results.length; i += CHUNK) {
        const part = results.slice(i, i + CHUNK);
        const values: SqlParam[] = [];
        for (const r of part) {
          values.push(
            r.id,
            new Date(r.atMs).toISOString().slice(0, 10),
            r.atMs,
            r.tenantId,
            r.sessionId,
            r.channel,
            r.requestId,
            r.promptHash,
            r.wire,
            ...sideParams(r.stable),
            ...sideParams(r.candidate),
          );
        }
        await tx.run(
          `INSERT INTO shadow_results (${COLUMNS.join(', ')}) VALUES ${part.map(() => ROW).join(', ')}`,
          values,
        );
      }
    });
  }

  /** A tenant's shadow pairs, oldest first. */
  async listForTenant(tenantId: string, limit: number): Promise<ShadowResult[]> {
    const rows = await this.db.all<Row>(
      `SELECT ${COLUMNS.join(', ')} FROM shadow_results WHERE tenant_id = ? ORDER BY at_ms, id LIMIT ?`,
      [tenantId, limit],
    );
    return rows.map((r) => ({
      id: String(r.id),
      atMs: Number(r.at_ms),
      tenantId: String(r.tenant_id),
      sessionId: String(r.session_id),
      channel: String(r.channel),
      requestId: String(r.request_id),
      promptHash: r.prompt_hash as string | null,
      wire: r.wire as WireKind,
      stable: side(r, 'stable'),
      candidate: side(r, 'candidate'),
    }));
  }
}
