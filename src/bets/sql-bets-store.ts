import type { SqlParam } from '../storage/sql-database.js';
import { whereEquals } from '../storage/where.js';
import type { BetsStore, CaptureStore } from './bets-store.js';
import type { CaseInput } from './bets-types.js';
import type { CapturedExample, CaptureSettings, CaptureStatus } from './capture-types.js';
import type { Answer } from './run-types.js';
import { SqlRunStore } from './sql-run-store.js';

interface CaptureRow {
  id: string;
  tenant_id: string;
  workflow: string;
  captured_at: string;
  input: string;
  response: string;
  input_hash: string;
  status: CaptureStatus;
  proposal: string | null;
  note: string | null;
  reviewed_by: string | null;
  reviewed_at: string | null;
  case_id: string | null;
  updated_at: string;
}

function captureFromRow(r: CaptureRow): CapturedExample {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    workflow: r.workflow,
    capturedAt: r.captured_at,
    input: JSON.parse(r.input) as CaseInput,
    response: JSON.parse(r.response) as Answer,
    inputHash: r.input_hash,
    status: r.status,
    proposal: r.proposal === null ? null : (JSON.parse(r.proposal) as CapturedExample['proposal']),
    note: r.note,
    reviewedBy: r.reviewed_by,
    reviewedAt: r.reviewed_at,
    caseId: r.case_id,
    updatedAt: r.updated_at,
  };
}

interface SettingsRow {
  tenant_id: string;
  enabled: number;
  sample_rate: number;
  workflow: string;
  updated_by: string;
  updated_at: string;
}

const settingsFromRow = (r: SettingsRow): CaptureSettings => ({
  tenantId: r.tenant_id,
  enabled: Number(r.enabled) === 1,
  sampleRate: Number(r.sample_rate),
  workflow: r.workflow,
  updatedBy: r.updated_by,
  updatedAt: r.updated_at,
});

/**
 * The BETS store over the SQL port (SQLite and PostgreSQL): suites and cases (SqlSuiteStore),
 * runs, results and verdicts (SqlRunStore), and captured traffic (here).
 */
export class SqlBetsStore extends SqlRunStore implements BetsStore, CaptureStore {
  async listCaptureSettings(): Promise<CaptureSettings[]> {
    const rows = await this.db.all<SettingsRow>('SELECT * FROM bets_capture_settings ORDER BY tenant_id');
    return rows.map(settingsFromRow);
  }

  async getCaptureSettings(tenantId: string): Promise<CaptureSettings | undefined> {
    const row = await this.db.get<SettingsRow>('SELECT * FROM bets_capture_settings WHERE tenant_id = ?', [
      tenantId,
    ]);
    return row ? settingsFromRow(row) : undefined;
  }

  async putCaptureSettings(s: CaptureSettings): Promise<void> {
    await this.db.run(
      `INSERT INTO bets_capture_settings (tenant_id, enabled, sample_rate, workflow, updated_by, updated_at)
        VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET enabled = excluded.enabled,
        sample_rate = excluded.sample_rate, workflow = excluded.workflow, updated_by = excluded.updated_by,
        updated_at = excluded.updated_at`,
      [s.tenantId, s.enabled ? 1 : 0, s.sampleRate, s.workflow, s.updatedBy, s.updatedAt],
    );
  }

  async insertCaptures(batch: CapturedExample[]): Promise<void> {
    if (batch.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (const c of batch) {
        await tx.run(
          `INSERT INTO bets_captures (id, tenant_id, workflow, captured_at, input, response, input_hash, status,
            proposal, note, reviewed_by, reviewed_at, case_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          captureParams(c),
        );
      }
    });
  }

  async getCapture(id: string): Promise<CapturedExample | undefined> {
    const row = await this.db.get<CaptureRow>('SELECT * FROM bets_captures WHERE id = ?', [id]);
    return row ? captureFromRow(row) : undefined;
  }

  async listCaptures(opts: {
    tenantId: string;
    status?: CaptureStatus;
    workflow?: string;
    limit: number;
  }): Promise<CapturedExample[]> {
    const w = whereEquals({ tenant_id: opts.tenantId, status: opts.status, workflow: opts.workflow });
    const rows = await this.db.all<CaptureRow>(
      `SELECT * FROM bets_captures ${w.sql} ORDER BY captured_at, id LIMIT ?`,
      [...w.params, opts.limit],
    );
    return rows.map(captureFromRow);
  }

  async updateCapture(next: CapturedExample, expected: CaptureStatus): Promise<boolean> {
    const r = await this.db.run(
      `UPDATE bets_captures SET status = ?, proposal = ?, note = ?, reviewed_by = ?, reviewed_at = ?,
        case_id = ?, updated_at = ? WHERE id = ? AND status = ?`,
      [
        next.status,
        next.proposal === null ? null : JSON.stringify(next.proposal),
        next.note,
        next.reviewedBy,
        next.reviewedAt,
        next.caseId,
        next.updatedAt,
        next.id,
        expected,
      ],
    );
    return r.changes === 1;
  }
}

function captureParams(c: CapturedExample): SqlParam[] {
  return [
    c.id,
    c.tenantId,
    c.workflow,
    c.capturedAt,
    JSON.stringify(c.input),
    JSON.stringify(c.response),
    c.inputHash,
    c.status,
    c.proposal === null ? null : JSON.stringify(c.proposal),
    c.note,
    c.reviewedBy,
    c.reviewedAt,
    c.caseId,
    c.updatedAt,
  ];
}
