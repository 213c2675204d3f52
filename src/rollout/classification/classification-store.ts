import type { SqlDatabase } from '../../storage/sql-database.js';
import type { FactorScore } from './score.js';

/** What started a classification. */
export type ClassificationTrigger = 'manual' | 'fleet' | 'schedule';

/**
 * What a classification did to the tenant: moved it to another group, only updated its observed
 * regression history, changed nothing, or was held (frozen, or in an active rollout).
 */
export type ClassificationOutcome = 'moved' | 'updated' | 'unchanged' | 'held';

/** A stored classification: who ran it, when, what it decided and each factor's part in it. */
export interface ClassificationRecord {
  id: string;
  tenantId: string;
  at: string;
  actor: string;
  trigger: ClassificationTrigger;
  outcome: ClassificationOutcome;
  fromGroupId: string;
  groupId: string;
  score: number;
  factors: FactorScore[];
  /** The rest of the explanation: derivations, regressions, floor, hold reason, audit reason. */
  detail: Record<string, unknown>;
}

interface RecordRow {
  id: string;
  tenant_id: string;
  at: string;
  actor: string;
  trigger_kind: ClassificationTrigger;
  outcome: ClassificationOutcome;
  from_group: string;
  group_id: string;
  score: number;
  detail: string;
}

/** The state of one named schedule. A run is in progress while `finishedAt` is older than `startedAt`. */
export interface ScheduleState {
  name: string;
  startedAt: number;
  finishedAt: number | null;
  holder: string;
  runs: number;
  lastResult: unknown;
}

interface ScheduleRow {
  name: string;
  started_at_ms: number | string;
  finished_at_ms: number | string | null;
  holder: string;
  runs: number | string;
  last_result: string | null;
}

/** Classification records and the re-evaluation schedule, over either SQL adapter. */
export class SqlClassificationStore {
  constructor(private readonly db: SqlDatabase) {}

  async insertRecord(r: ClassificationRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO tenant_classifications
         (id, tenant_id, at, actor, trigger_kind, outcome, from_group, group_id, score, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        r.id,
        r.tenantId,
        r.at,
        r.actor,
        r.trigger,
        r.outcome,
        r.fromGroupId,
        r.groupId,
        r.score,
        JSON.stringify({ factors: r.factors, ...r.detail }),
      ],
    );
  }

  /** A tenant's classifications, newest first. */
  async listRecords(tenantId: string, limit: number): Promise<ClassificationRecord[]> {
    const rows = await this.db.all<RecordRow>(
      `SELECT id, tenant_id, at, actor, trigger_kind, outcome, from_group, group_id, score, detail
         FROM tenant_classifications WHERE tenant_id = ? ORDER BY at DESC, id DESC LIMIT ?`,
      [tenantId, limit],
    );
    return rows.map((row) => {
      const { factors, ...detail } = JSON.parse(row.detail) as { factors: FactorScore[] } & Record<
        string,
        unknown
      >;
      return {
        id: row.id,
        tenantId: row.tenant_id,
        at: row.at,
        actor: row.actor,
        trigger: row.trigger_kind,
        outcome: row.outcome,
        fromGroupId: row.from_group,
        groupId: row.group_id,
        score: Number(row.score),
        factors,
        detail,
      };
    });
  }

  async getSchedule(name: string): Promise<ScheduleState | undefined> {
    const row = await this.db.get<ScheduleRow>(
      'SELECT name, started_at_ms, finished_at_ms, holder, runs, last_result FROM classification_schedule WHERE name = ?',
      [name],
    );
    if (!row) return undefined;
    return {
      name: row.name,
      startedAt: Number(row.started_at_ms),
      finishedAt: row.finished_at_ms === null ? null : Number(row.finished_at_ms),
      holder: row.holder,
      runs: Number(row.runs),
      lastResult: row.last_result === null ? null : (JSON.parse(row.last_result) as unknown),
    };
  }

  /**
   * Starts a schedule that has no row yet, as if it had last run (and finished) at `now`.
   * True for the one caller whose row was written; false when the schedule already existed.
   */
  async initSchedule(name: string, now: number, holder: string): Promise<boolean> {
    const r = await this.db.run(
      `INSERT INTO classification_schedule (name, started_at_ms, finished_at_ms, holder, runs, last_result)
       VALUES (?, ?, ?, ?, 0, NULL) ON CONFLICT (name) DO NOTHING`,
      [name, now, now, holder],
    );
    return r.changes === 1;
  }

  /**
   * Claims a due run: a guarded write that succeeds only if the schedule is still exactly as
   * `seen` (same start and run count), so of several processes that saw it due, one wins.
   */
  async claimSchedule(seen: ScheduleState, now: number, holder: string): Promise<boolean> {
    const r = await this.db.run(
      `UPDATE classification_schedule SET started_at_ms = ?, holder = ?, runs = runs + 1
        WHERE name = ? AND started_at_ms = ? AND runs = ?`,
      [now, holder, seen.name, seen.startedAt, seen.runs],
    );
    return r.changes === 1;
  }

  /** Marks the claimed run finished, with its summary; false if another process took it over. */
  async finishSchedule(
    name: string,
    startedAt: number,
    holder: string,
    now: number,
    result: unknown,
  ): Promise<boolean> {
    const r = await this.db.run(
      `UPDATE classification_schedule SET finished_at_ms = ?, last_result = ?
        WHERE name = ? AND started_at_ms = ? AND holder = ?`,
      [now, JSON.stringify(result), name, startedAt, holder],
    );
    return r.changes === 1;
  }
}
