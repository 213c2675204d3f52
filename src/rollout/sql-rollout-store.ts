import type { SqlDatabase, SqlExecutor, SqlParam } from '../storage/sql-database.js';
import { whereEquals } from '../storage/where.js';
import { decodeJson, encodeJson } from './json-codec.js';
import type { RolloutEvent, RolloutStore } from './rollout-store.js';
import type {
  Approval,
  RollbackStep,
  RolloutControl,
  RolloutPhase,
  TenantRollout,
  Upgrade,
  UpgradeState,
} from './rollout-types.js';

interface UpgradeRow {
  id: string;
  channel: string;
  from_version_id: string;
  to_version_id: string;
  state: UpgradeState;
  created_by: string;
  reason: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

interface RolloutRow {
  id: string;
  upgrade_id: string;
  tenant_id: string;
  channel: string;
  group_id: string;
  phase: RolloutPhase;
  resume_phase: RolloutPhase | null;
  stage: number;
  phase_since_ms: number;
  started_at_ms: number;
  rollback_step: RollbackStep | null;
  reason: string | null;
  approvals: string;
  applied_steps: string;
  control: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

interface EventRow {
  seq: number | string;
  upgrade_id: string;
  rollout_id: string | null;
  tenant_id: string | null;
  at_ms: number | string;
  actor: string;
  action: string;
  detail: string | null;
}

const upgradeFromRow = (r: UpgradeRow): Upgrade => ({
  id: r.id,
  channel: r.channel,
  fromVersionId: r.from_version_id,
  toVersionId: r.to_version_id,
  state: r.state,
  createdBy: r.created_by,
  reason: r.reason,
  version: Number(r.version),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const rolloutFromRow = (r: RolloutRow): TenantRollout => ({
  id: r.id,
  upgradeId: r.upgrade_id,
  tenantId: r.tenant_id,
  channel: r.channel,
  groupId: r.group_id,
  phase: r.phase,
  resumePhase: r.resume_phase,
  stage: Number(r.stage),
  phaseSince: Number(r.phase_since_ms),
  startedAt: Number(r.started_at_ms),
  rollbackStep: r.rollback_step,
  reason: r.reason,
  approvals: JSON.parse(r.approvals) as Approval[],
  appliedSteps: JSON.parse(r.applied_steps) as string[],
  ...(r.control ? { control: decodeJson<RolloutControl>(r.control) } : {}),
  version: Number(r.version),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const ROLLOUT_COLUMNS =
  'id, upgrade_id, tenant_id, channel, group_id, phase, resume_phase, stage, phase_since_ms, started_at_ms, rollback_step, reason, approvals, applied_steps, control, version, created_at, updated_at';

function rolloutParams(r: TenantRollout): SqlParam[] {
  return [
    r.id,
    r.upgradeId,
    r.tenantId,
    r.channel,
    r.groupId,
    r.phase,
    r.resumePhase,
    r.stage,
    r.phaseSince,
    r.startedAt,
    r.rollbackStep,
    r.reason,
    JSON.stringify(r.approvals),
    JSON.stringify(r.appliedSteps),
    r.control ? encodeJson(r.control) : null,
    r.version,
    r.createdAt,
    r.updatedAt,
  ];
}

async function insertRollout(tx: SqlExecutor, r: TenantRollout): Promise<void> {
  await tx.run(
    `INSERT INTO tenant_rollouts (${ROLLOUT_COLUMNS}) VALUES (${ROLLOUT_COLUMNS.split(',')
      .map(() => '?')
      .join(', ')})`,
    rolloutParams(r),
  );
}

export class SqlRolloutStore implements RolloutStore {
  constructor(private readonly db: SqlDatabase) {}

  createUpgrade(u: Upgrade, rollouts: TenantRollout[]): Promise<void> {
    return this.db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO upgrades (id, channel, from_version_id, to_version_id, state, created_by, reason, version, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          u.id,
          u.channel,
          u.fromVersionId,
          u.toVersionId,
          u.state,
          u.createdBy,
          u.reason,
          u.version,
          u.createdAt,
          u.updatedAt,
        ],
      );
      for (const r of rollouts) await insertRollout(tx, r);
    });
  }

  async getUpgrade(id: string): Promise<Upgrade | undefined> {
    const row = await this.db.get<UpgradeRow>('SELECT * FROM upgrades WHERE id = ?', [id]);
    return row ? upgradeFromRow(row) : undefined;
  }

  async listUpgrades(): Promise<Upgrade[]> {
    return (await this.db.all<UpgradeRow>('SELECT * FROM upgrades ORDER BY created_at DESC, id')).map(
      upgradeFromRow,
    );
  }

  async updateUpgrade(u: Upgrade, expectedVersion: number): Promise<boolean> {
    const r = await this.db.run(
      'UPDATE upgrades SET state = ?, reason = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?',
      [u.state, u.reason, u.version, u.updatedAt, u.id, expectedVersion],
    );
    return r.changes === 1;
  }

  async listRollouts(filter: { upgradeId?: string; tenantId?: string }): Promise<TenantRollout[]> {
    const w = whereEquals({ upgrade_id: filter.upgradeId, tenant_id: filter.tenantId });
    const rows = await this.db.all<RolloutRow>(
      `SELECT ${ROLLOUT_COLUMNS} FROM tenant_rollouts ${w.sql} ORDER BY tenant_id, id`,
      w.params,
    );
    return rows.map(rolloutFromRow);
  }

  async getRollout(id: string): Promise<TenantRollout | undefined> {
    const row = await this.db.get<RolloutRow>(`SELECT ${ROLLOUT_COLUMNS} FROM tenant_rollouts WHERE id = ?`, [
      id,
    ]);
    return row ? rolloutFromRow(row) : undefined;
  }

  async updateRollout(r: TenantRollout, expectedVersion: number): Promise<boolean> {
    return updateRolloutOn(this.db, r, expectedVersion);
  }

  writeStatus(r: TenantRollout, expectedVersion: number, events: readonly RolloutEvent[]): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      if (!(await updateRolloutOn(tx, r, expectedVersion))) return false;
      for (const e of events) await insertEvent(tx, e);
      return true;
    });
  }

  async appendEvent(e: RolloutEvent): Promise<void> {
    await insertEvent(this.db, e);
  }

  async listEvents(filter: { upgradeId: string; tenantId?: string; limit: number }): Promise<RolloutEvent[]> {
    const w = whereEquals({ upgrade_id: filter.upgradeId, tenant_id: filter.tenantId });
    const rows = await this.db.all<EventRow>(
      `SELECT seq, upgrade_id, rollout_id, tenant_id, at_ms, actor, action, detail FROM rollout_events ${w.sql}
       ORDER BY seq DESC LIMIT ?`,
      [...w.params, filter.limit],
    );
    return rows.reverse().map((r) => ({
      upgradeId: r.upgrade_id,
      rolloutId: r.rollout_id,
      tenantId: r.tenant_id,
      atMs: Number(r.at_ms),
      actor: r.actor,
      action: r.action,
      detail: r.detail,
    }));
  }
}

async function updateRolloutOn(ex: SqlExecutor, r: TenantRollout, expectedVersion: number): Promise<boolean> {
  const [id, ...rest] = rolloutParams(r);
  const sets = ROLLOUT_COLUMNS.split(', ')
    .slice(1)
    .map((c) => `${c} = ?`)
    .join(', ');
  const res = await ex.run(`UPDATE tenant_rollouts SET ${sets} WHERE id = ? AND version = ?`, [
    ...rest,
    id ?? null,
    expectedVersion,
  ]);
  return res.changes === 1;
}

async function insertEvent(ex: SqlExecutor, e: RolloutEvent): Promise<void> {
  await ex.run(
    'INSERT INTO rollout_events (upgrade_id, rollout_id, tenant_id, at_ms, actor, action, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [e.upgradeId, e.rolloutId, e.tenantId, e.atMs, e.actor, e.action, e.detail],
  );
}
