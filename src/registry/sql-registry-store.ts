import type { SqlDatabase, SqlExecutor, SqlParam } from '../storage/sql-database.js';
import { whereEquals } from '../storage/where.js';
import { ENTITY_TABLES, fromRow, toRow } from './entity-tables.js';
import type { AuditQuery, RegistryDump, RegistryStore, RegistryWriter } from './registry-store.js';
import type { AnyEntity, AuditEntry, EntityKind, EntityTypes } from './types.js';

interface AuditRow {
  seq: number;
  id: string;
  at: string;
  actor: string;
  action: string;
  op: AuditEntry['op'];
  entity_kind: EntityKind;
  entity_id: string;
  tenant_id: string | null;
  before_json: string | null;
  after_json: string | null;
  reason: string | null;
  reverts_id: string | null;
  request_id: string | null;
}

const parseJson = (s: string | null): AnyEntity | null => (s === null ? null : (JSON.parse(s) as AnyEntity));

function auditFromRow(r: AuditRow): AuditEntry {
  return {
    seq: Number(r.seq),
    id: r.id,
    at: r.at,
    actor: r.actor,
    action: r.action,
    op: r.op,
    entityKind: r.entity_kind,
    entityId: r.entity_id,
    tenantId: r.tenant_id,
    before: parseJson(r.before_json),
    after: parseJson(r.after_json),
    reason: r.reason,
    revertsId: r.reverts_id,
    requestId: r.request_id,
  };
}

/** Which records reference which: checked before a delete so the caller gets a clear error. */
const REFERENCES: Partial<Record<EntityKind, { kind: EntityKind; column: string }[]>> = {
  tenant: [
    { kind: 'api_key', column: 'tenant_id' },
    { kind: 'tenant_channel', column: 'tenant_id' },
    { kind: 'contract', column: 'tenant_id' },
    { kind: 'admin_token', column: 'tenant_id' },
  ],
  model_version: [
    { kind: 'tenant_channel', column: 'stable_version_id' },
    { kind: 'tenant_channel', column: 'candidate_version_id' },
    { kind: 'contract', column: 'model_version_id' },
  ],
  rollout_group: [{ kind: 'tenant', column: 'rollout_group' }],
};

const SELECTS = new Map<EntityKind, string>();
function selectSql(kind: EntityKind): string {
  let s = SELECTS.get(kind);
  if (!s) {
    const t = ENTITY_TABLES[kind];
    s = `SELECT ${t.columns.map((c) => c.column).join(', ')} FROM ${t.table}`;
    SELECTS.set(kind, s);
  }
  return s;
}

async function getEntity<K extends EntityKind>(
  ex: SqlExecutor,
  kind: K,
  id: string,
): Promise<EntityTypes[K] | undefined> {
  const row = await ex.get<Record<string, unknown>>(`${selectSql(kind)} WHERE id = ?`, [id]);
  return row ? fromRow(kind, row) : undefined;
}

class SqlRegistryWriter implements RegistryWriter {
  constructor(private readonly tx: SqlExecutor) {}

  get<K extends EntityKind>(kind: K, id: string) {
    return getEntity(this.tx, kind, id);
  }

  async insert<K extends EntityKind>(kind: K, entity: EntityTypes[K]): Promise<void> {
    const t = ENTITY_TABLES[kind];
    const cols = t.columns.map((c) => c.column);
    await this.tx.run(
      `INSERT INTO ${t.table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
      toRow(kind, entity),
    );
  }

  async update<K extends EntityKind>(
    kind: K,
    entity: EntityTypes[K],
    expectedVersion: number,
  ): Promise<boolean> {
    const t = ENTITY_TABLES[kind];
    const sets = t.columns.filter((c) => c.column !== 'id').map((c) => `${c.column} = ?`);
    const values = toRow(kind, entity);
    const idIndex = t.columns.findIndex((c) => c.column === 'id');
    const params: SqlParam[] = [
      ...values.filter((_, i) => i !== idIndex),
      values[idIndex] ?? null,
      expectedVersion,
    ];
    const r = await this.tx.run(
      `UPDATE ${t.table} SET ${sets.join(', ')} WHERE id = ? AND version = ?`,
      params,
    );
    return r.changes === 1;
  }

  async delete(kind: EntityKind, id: string, expectedVersion: number): Promise<boolean> {
    const r = await this.tx.run(`DELETE FROM ${ENTITY_TABLES[kind].table} WHERE id = ? AND version = ?`, [
      id,
      expectedVersion,
    ]);
    return r.changes === 1;
  }

  async dependents(kind: EntityKind, id: string): Promise<string[]> {
    const out: string[] = [];
    for (const ref of REFERENCES[kind] ?? []) {
      const rows = await this.tx.all<{ id: string }>(
        `SELECT id FROM ${ENTITY_TABLES[ref.kind].table} WHERE ${ref.column} = ? ORDER BY id`,
        [id],
      );
      for (const r of rows) out.push(`${ref.kind}:${r.id}`);
    }
    return out;
  }

  async appendAudit(e: Omit<AuditEntry, 'seq'>): Promise<AuditEntry> {
    const row = await this.tx.get<{ seq: number }>(
      `INSERT INTO audit_log (id, at, actor, action, op, entity_kind, entity_id, tenant_id, before_json,
        after_json, reason, reverts_id, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
      [
        e.id,
        e.at,
        e.actor,
        e.action,
        e.op,
        e.entityKind,
        e.entityId,
        e.tenantId,
        e.before === null ? null : JSON.stringify(e.before),
        e.after === null ? null : JSON.stringify(e.after),
        e.reason,
        e.revertsId,
        e.requestId,
      ],
    );
    return { ...e, seq: Number(row?.seq) };
  }

  async auditAfter(entityKind: EntityKind, entityId: string, seq: number): Promise<AuditEntry[]> {
    const rows = await this.tx.all<AuditRow>(
      'SELECT * FROM audit_log WHERE entity_kind = ? AND entity_id = ? AND seq > ? ORDER BY seq',
      [entityKind, entityId, seq],
    );
    return rows.map(auditFromRow);
  }

  async bumpVersion(): Promise<number> {
    const row = await this.tx.get<{ version: number }>(
      'UPDATE registry_state SET version = version + 1 WHERE id = 1 RETURNING version',
    );
    return Number(row?.version);
  }
}

export class SqlRegistryStore implements RegistryStore {
  constructor(private readonly db: SqlDatabase) {}

  get<K extends EntityKind>(kind: K, id: string) {
    return getEntity(this.db, kind, id);
  }

  async list<K extends EntityKind>(kind: K, opts: { tenantId?: string } = {}): Promise<EntityTypes[K][]> {
    const tenantField = ENTITY_TABLES[kind].tenantField;
    const tenantColumn = ENTITY_TABLES[kind].columns.find((c) => c.field === tenantField)?.column;
    const rows =
      opts.tenantId !== undefined && tenantColumn
        ? await this.db.all<Record<string, unknown>>(
            `${selectSql(kind)} WHERE ${tenantColumn} = ? ORDER BY id`,
            [opts.tenantId],
          )
        : await this.db.all<Record<string, unknown>>(`${selectSql(kind)} ORDER BY id`);
    return rows.map((r) => fromRow(kind, r));
  }

  async findByUnique<K extends 'api_key' | 'admin_token'>(kind: K, hash: string) {
    const column = kind === 'api_key' ? 'key_hash' : 'token_hash';
    const row = await this.db.get<Record<string, unknown>>(`${selectSql(kind)} WHERE ${column} = ?`, [hash]);
    return row ? fromRow(kind, row) : undefined;
  }

  async listAudit(q: AuditQuery): Promise<AuditEntry[]> {
    const w = whereEquals({ tenant_id: q.tenantId, entity_kind: q.entityKind, entity_id: q.entityId });
    const before = q.beforeSeq !== undefined ? `${w.sql ? `${w.sql} AND` : 'WHERE'} seq < ?` : w.sql;
    const rows = await this.db.all<AuditRow>(`SELECT * FROM audit_log ${before} ORDER BY seq DESC LIMIT ?`, [
      ...w.params,
      ...(q.beforeSeq !== undefined ? [q.beforeSeq] : []),
      q.limit,
    ]);
    return rows.map(auditFromRow);
  }

  async getAudit(id: string): Promise<AuditEntry | undefined> {
    const row = await this.db.get<AuditRow>('SELECT * FROM audit_log WHERE id = ?', [id]);
    return row ? auditFromRow(row) : undefined;
  }

  async version(): Promise<number> {
    const row = await this.db.get<{ version: number }>('SELECT version FROM registry_state WHERE id = 1');
    return Number(row?.version ?? 0);
  }

  dump(): Promise<RegistryDump> {
    // Repeatable read: every table is read as of one instant, matching `version`.
    return this.db.transaction(
      async (tx) => {
        const all = async <K extends EntityKind>(kind: K) =>
          (await tx.all<Record<string, unknown>>(`${selectSql(kind)} ORDER BY id`)).map((r) =>
            fromRow(kind, r),
          );
        const v = await tx.get<{ version: number }>('SELECT version FROM registry_state WHERE id = 1');
        return {
          version: Number(v?.version ?? 0),
          tenants: await all('tenant'),
          apiKeys: await all('api_key'),
          models: await all('model_version'),
          channels: await all('tenant_channel'),
          contracts: await all('contract'),
          groups: await all('rollout_group'),
        };
      },
      { isolation: 'repeatable read', readOnly: true },
    );
  }

  write<T>(fn: (w: RegistryWriter) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(new SqlRegistryWriter(tx)));
  }
}
