import type { SqlDatabase } from '../../storage/sql-database.js';

/** An agent's (or its downstream system's) report on how a task went. */
export interface FeedbackRecord {
  id: string;
  atMs: number;
  tenantId: string;
  keyId: string;
  sessionId: string;
  taskId: string | null;
  channel: string | null;
  /** The version serving the session when the feedback arrived (from its pin), if known. */
  versionId: string | null;
  cohort: 'stable' | 'canary' | null;
  outcome: 'success' | 'failure' | null;
  downstreamErrors: number;
  errorKind: string | null;
  detail: string | null;
  /** The gateway request (x-request-id) the feedback is about, if the agent said. */
  requestId: string | null;
}

/** Where feedback is kept for the controller's task-completion and downstream-error signals. */
export interface FeedbackStore {
  append(record: FeedbackRecord): Promise<void>;
  listForTenant(tenantId: string, sinceMs: number, limit: number): Promise<FeedbackRecord[]>;
}

interface Row {
  id: string;
  at_ms: number | string;
  tenant_id: string;
  key_id: string;
  session_id: string;
  task_id: string | null;
  channel: string | null;
  version_id: string | null;
  cohort: 'stable' | 'canary' | null;
  outcome: 'success' | 'failure' | null;
  downstream_errors: number;
  error_kind: string | null;
  detail: string | null;
  request_id: string | null;
}

/** Feedback over the SQL port (table from the gateway migration). */
export class SqlFeedbackStore implements FeedbackStore {
  constructor(private readonly db: SqlDatabase) {}

  async append(r: FeedbackRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO gateway_feedback (id, day, at_ms, tenant_id, key_id, session_id, task_id, channel,
        version_id, cohort, outcome, downstream_errors, error_kind, detail, request_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        r.id,
        new Date(r.atMs).toISOString().slice(0, 10),
        r.atMs,
        r.tenantId,
        r.keyId,
        r.sessionId,
        r.taskId,
        r.channel,
        r.versionId,
        r.cohort,
        r.outcome,
        r.downstreamErrors,
        r.errorKind,
        r.detail,
        r.requestId,
      ],
    );
  }

  async listForTenant(tenantId: string, sinceMs: number, limit: number): Promise<FeedbackRecord[]> {
    const rows = await this.db.all<Row>(
      `SELECT id, at_ms, tenant_id, key_id, session_id, task_id, channel, version_id, cohort, outcome,
        downstream_errors, error_kind, detail, request_id
       FROM gateway_feedback WHERE tenant_id = ? AND at_ms >= ? ORDER BY at_ms, id LIMIT ?`,
      [tenantId, sinceMs, limit],
    );
    return rows.map((r) => ({
      id: r.id,
      atMs: Number(r.at_ms),
      tenantId: r.tenant_id,
      keyId: r.key_id,
      sessionId: r.session_id,
      taskId: r.task_id,
      channel: r.channel,
      versionId: r.version_id,
      cohort: r.cohort,
      outcome: r.outcome,
      downstreamErrors: r.downstream_errors,
      errorKind: r.error_kind,
      detail: r.detail,
      requestId: r.request_id,
    }));
  }
}
