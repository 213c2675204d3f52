import type { SqlDatabase, SqlExecutor } from '../storage/sql-database.js';
import type { ChangeMeta, NewSuite, SuiteChange, SuiteStore } from './bets-store.js';
import type { CaseSpec, Suite, SuiteCase, SuiteConfig, SuiteVersion } from './bets-types.js';

interface SuiteRow {
  id: string;
  tenant_id: string;
  workflow: string;
  channel: string;
  name: string;
  config: string;
  version: number;
  case_count: number;
  deleted_at: string | null;
  created_at: string;
  updated_at: string;
}

interface CaseRow {
  case_id: string;
  from_version: number;
  body: string;
  source: SuiteCase['source'];
  golden_at: string;
}

function suiteFromRow(r: SuiteRow): Suite {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    workflow: r.workflow,
    channel: r.channel,
    name: r.name,
    config: JSON.parse(r.config) as SuiteConfig,
    version: Number(r.version),
    caseCount: Number(r.case_count),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function caseFromRow(r: CaseRow): SuiteCase {
  return {
    ...(JSON.parse(r.body) as CaseSpec),
    source: r.source,
    goldenAt: r.golden_at,
    sinceVersion: Number(r.from_version),
  };
}

const SUITE_COLUMNS =
  'id, tenant_id, workflow, channel, name, config, version, case_count, deleted_at, created_at, updated_at';

/**
 * Suites and their versioned cases over the SQL port. Every change is one transaction that
 * first takes the suite row (a guarded UPDATE: the row lock in PostgreSQL, and SQLite's writer
 * lock is already held), so two concurrent changes cannot both build on the same version.
 */
export class SqlSuiteStore implements SuiteStore {
  constructor(protected readonly db: SqlDatabase) {}

  async createSuite(suite: NewSuite, cases: SuiteChange['upsert'], meta: ChangeMeta): Promise<Suite | null> {
    const id = `${suite.tenantId}:${suite.workflow}`;
    const list = cases ?? [];
    return this.db.transaction(async (tx) => {
      const existing = await tx.get<SuiteRow>(`SELECT ${SUITE_COLUMNS} FROM bets_suites WHERE id = ?`, [id]);
      if (existing && existing.deleted_at === null) return null;
      const version = existing ? Number(existing.version) + 1 : 1;
      const params = [
        suite.channel,
        suite.name,
        JSON.stringify(suite.config),
        version,
        list.length,
        meta.at,
        meta.at,
      ];
      if (existing) {
        await tx.run(
          `UPDATE bets_suites SET channel = ?, name = ?, config = ?, version = ?, case_count = ?,
            created_at = ?, updated_at = ?, deleted_at = NULL WHERE id = ?`,
          [...params, id],
        );
      } else {
        await tx.run(
          `INSERT INTO bets_suites (channel, name, config, version, case_count, created_at, updated_at,
            id, tenant_id, workflow) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [...params, id, suite.tenantId, suite.workflow],
        );
      }
      for (const c of list) await insertCase(tx, id, version, c, meta.at);
      await insertVersion(tx, id, version, suite.config, meta, list.length);
      const row = await tx.get<SuiteRow>(`SELECT ${SUITE_COLUMNS} FROM bets_suites WHERE id = ?`, [id]);
      return suiteFromRow(row as SuiteRow);
    });
  }

  async getSuite(id: string): Promise<Suite | undefined> {
    const row = await this.db.get<SuiteRow>(
      `SELECT ${SUITE_COLUMNS} FROM bets_suites WHERE id = ? AND deleted_at IS NULL`,
      [id],
    );
    return row ? suiteFromRow(row) : undefined;
  }

  async listSuites(opts: { tenantId?: string; channel?: string }): Promise<Suite[]> {
    const where = ['deleted_at IS NULL'];
    const params: string[] = [];
    if (opts.tenantId !== undefined) {
      where.push('tenant_id = ?');
      params.push(opts.tenantId);
    }
    if (opts.channel !== undefined) {
      where.push('channel = ?');
      params.push(opts.channel);
    }
    const rows = await this.db.all<SuiteRow>(
      `SELECT ${SUITE_COLUMNS} FROM bets_suites WHERE ${where.join(' AND ')} ORDER BY id`,
      params,
    );
    return rows.map(suiteFromRow);
  }

  async changeSuite(
    id: string,
    expectedVersion: number,
    change: SuiteChange,
    meta: ChangeMeta,
  ): Promise<Suite | 'conflict' | { missing: string[] }> {
    return this.db.transaction(async (tx) => {
      const locked = await tx.run(
        'UPDATE bets_suites SET updated_at = updated_at WHERE id = ? AND version = ? AND deleted_at IS NULL',
        [id, expectedVersion],
      );
      if (locked.changes !== 1) return 'conflict';
      const row = (await tx.get<SuiteRow>(`SELECT ${SUITE_COLUMNS} FROM bets_suites WHERE id = ?`, [
        id,
      ])) as SuiteRow;
      const open = new Map(
        (
          await tx.all<CaseRow>(
            'SELECT case_id, from_version, body, source, golden_at FROM bets_cases WHERE suite_id = ? AND to_version IS NULL',
            [id],
          )
        ).map((r) => [r.case_id, r]),
      );
      const missing = (change.remove ?? []).filter((c) => !open.has(c));
      if (missing.length > 0) return { missing };

      const upserts = change.upsert ?? [];
      const upsertIds = new Set(upserts.map((u) => u.spec.id));
      const close = new Set(change.remove ?? []);
      if (change.replaceAll) for (const caseId of open.keys()) if (!upsertIds.has(caseId)) close.add(caseId);
      const inserts = upserts.filter((u) => {
        const current = open.get(u.spec.id);
        const same =
          current !== undefined &&
          current.body === JSON.stringify(u.spec) &&
          current.source === u.source &&
          (u.goldenAt === undefined || u.goldenAt === current.golden_at);
        return !same;
      });
      const config = change.config ? JSON.stringify(change.config) : row.config;
      const name = change.name ?? row.name;
      if (close.size === 0 && inserts.length === 0 && config === row.config && name === row.name) {
        return suiteFromRow(row);
      }

      const version = expectedVersion + 1;
      for (const u of inserts) close.add(u.spec.id);
      for (const caseId of close) {
        if (open.has(caseId)) {
          await tx.run(
            'UPDATE bets_cases SET to_version = ? WHERE suite_id = ? AND case_id = ? AND to_version IS NULL',
            [version, id, caseId],
          );
        }
      }
      for (const u of inserts) await insertCase(tx, id, version, u, meta.at);
      const remaining = new Set([...open.keys()].filter((c) => !close.has(c)));
      for (const u of inserts) remaining.add(u.spec.id);
      await tx.run(
        'UPDATE bets_suites SET version = ?, config = ?, name = ?, case_count = ?, updated_at = ? WHERE id = ?',
        [version, config, name, remaining.size, meta.at, id],
      );
      await insertVersion(tx, id, version, JSON.parse(config) as SuiteConfig, meta, remaining.size);
      return suiteFromRow({
        ...row,
        version,
        config,
        name,
        case_count: remaining.size,
        updated_at: meta.at,
      });
    });
  }

  async deleteSuite(id: string, expectedVersion: number, meta: ChangeMeta): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const version = expectedVersion + 1;
      const r = await tx.run(
        `UPDATE bets_suites SET deleted_at = ?, version = ?, case_count = 0, updated_at = ?
          WHERE id = ? AND version = ? AND deleted_at IS NULL`,
        [meta.at, version, meta.at, id, expectedVersion],
      );
      if (r.changes !== 1) return false;
      await tx.run('UPDATE bets_cases SET to_version = ? WHERE suite_id = ? AND to_version IS NULL', [
        version,
        id,
      ]);
      const row = await tx.get<{ config: string }>('SELECT config FROM bets_suites WHERE id = ?', [id]);
      await insertVersion(tx, id, version, JSON.parse(row?.config ?? '{}') as SuiteConfig, meta, 0);
      return true;
    });
  }

  async listCases(suiteId: string, version: number): Promise<SuiteCase[]> {
    const rows = await this.db.all<CaseRow>(
      `SELECT case_id, from_version, body, source, golden_at FROM bets_cases
        WHERE suite_id = ? AND from_version <= ? AND (to_version IS NULL OR to_version > ?) ORDER BY case_id`,
      [suiteId, version, version],
    );
    return rows.map(caseFromRow);
  }

  async listVersions(suiteId: string): Promise<SuiteVersion[]> {
    const rows = await this.db.all<{
      version: number;
      change_note: string;
      actor: string;
      case_count: number;
      created_at: string;
    }>(
      'SELECT version, change_note, actor, case_count, created_at FROM bets_suite_versions WHERE suite_id = ? ORDER BY version',
      [suiteId],
    );
    return rows.map((r) => ({
      suiteId,
      version: Number(r.version),
      change: r.change_note,
      actor: r.actor,
      caseCount: Number(r.case_count),
      createdAt: r.created_at,
    }));
  }

  async versionConfig(suiteId: string, version: number): Promise<SuiteConfig | undefined> {
    const row = await this.db.get<{ config: string }>(
      'SELECT config FROM bets_suite_versions WHERE suite_id = ? AND version = ?',
      [suiteId, version],
    );
    return row ? (JSON.parse(row.config) as SuiteConfig) : undefined;
  }
}

async function insertCase(
  tx: SqlExecutor,
  suiteId: string,
  version: number,
  c: NonNullable<SuiteChange['upsert']>[number],
  at: string,
): Promise<void> {
  await tx.run(
    'INSERT INTO bets_cases (suite_id, case_id, from_version, to_version, body, source, golden_at) VALUES (?, ?, ?, NULL, ?, ?, ?)',
    [suiteId, c.spec.id, version, JSON.stringify(c.spec), c.source, c.goldenAt ?? at],
  );
}

async function insertVersion(
  tx: SqlExecutor,
  suiteId: string,
  version: number,
  config: SuiteConfig,
  meta: ChangeMeta,
  caseCount: number,
): Promise<void> {
  await tx.run(
    'INSERT INTO bets_suite_versions (suite_id, version, config, change_note, actor, case_count, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [suiteId, version, JSON.stringify(config), meta.note, meta.actor, caseCount, meta.at],
  );
}
