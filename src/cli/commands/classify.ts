import type { Command } from 'commander';
import type { Tenant } from '../../registry/types.js';
import type {
  ClassificationResult,
  Evaluation,
  FleetRunResult,
} from '../../rollout/classification/classification-service.js';
import { seg } from '../admin-client.js';
import {
  adminCommand,
  type ChangeOptions,
  connect,
  emit,
  withIfVersion,
  withReason,
} from '../command-kit.js';
import { CliError, EXIT } from '../exit-codes.js';
import { out, printRecord, printTable } from '../output.js';

const LEVELS = ['low', 'medium', 'high'];

interface ClassifyOptions extends ChangeOptions {
  all?: boolean;
  apply?: boolean;
}

function printFactors(c: Evaluation): void {
  printTable(
    ['factor', 'value', 'points', 'why'],
    c.factors.map((f) => [f.factor, f.value, f.points, f.why]),
    'No factors.',
  );
}

function printClassification(c: Evaluation | ClassificationResult): void {
  const applied = 'applied' in c ? c.applied : false;
  printRecord({
    tenant: c.tenantId,
    group: c.fromGroupId === c.groupId ? c.groupId : `${c.fromGroupId} -> ${c.groupId}`,
    score: c.score,
    decision: c.decision,
    held: c.held,
    applied,
    record: 'recordId' in c ? c.recordId : null,
  });
  printFactors(c);
}

function printFleet(r: FleetRunResult): void {
  out(
    `${r.apply ? 'Applied' : 'Dry run'}: ${r.evaluated} tenants evaluated, ${r.moves.length} moved, ` +
      `${r.updated.length} history updated, ${r.held.length} held, ${r.unchanged.length} unchanged, ` +
      `${r.failed.length} failed.`,
  );
  printTable(
    ['tenant', 'from', 'to', 'score', 'reason'],
    r.moves.map((m) => [m.tenantId, m.fromGroupId, m.groupId, m.score, m.reason]),
    'No moves.',
  );
  if (r.held.length > 0) {
    printTable(
      ['held tenant', 'group', 'would be', 'why'],
      r.held.map((h) => [h.tenantId, h.fromGroupId, h.groupId, h.held]),
      '',
    );
  }
  if (r.failed.length > 0) {
    printTable(
      ['failed tenant', 'code', 'message'],
      r.failed.map((f) => [f.tenantId, f.code, f.message]),
      '',
    );
  }
}

/**
 * `classify <tenant> [--apply]` and `classify --all [--apply]`: rollout group classification from
 * risk profiles, a dry run unless --apply. `sensitivity <tenant> <level> --reason ...`: a tenant
 * declares its own sensitivity (its tenant_contact token may, as may an operator).
 */
export function registerClassifyCommands(program: Command): void {
  withReason(
    adminCommand(
      program,
      'classify [tenant]',
      'propose (or with --apply, make) the rollout group of a tenant, or of every tenant with --all',
    )
      .option('--all', 're-evaluate every tenant')
      .option('--apply', 'move tenants to the proposed groups (operators only); without it nothing changes'),
  ).action(async (tenant: string | undefined, o: ClassifyOptions) => {
    if ((tenant === undefined) === (o.all !== true)) {
      throw new CliError('give a tenant id or --all (not both)', EXIT.usage);
    }
    const body = { apply: o.apply === true, ...(o.reason !== undefined ? { reason: o.reason } : {}) };
    if (tenant === undefined) {
      emit(o, await connect(o).post<FleetRunResult>('/classification/run', body), printFleet);
      return;
    }
    const r = await connect(o).post<ClassificationResult>(`/tenants/${seg(tenant)}/classify`, body);
    emit(o, r, printClassification);
  });

  registerSensitivityCommand(program);
}

/** `sensitivity <tenant> <level>`; exported so it can hang under another command (e.g. `tenants`). */
export function registerSensitivityCommand(parent: Command): void {
  withIfVersion(
    adminCommand(
      parent,
      'sensitivity <tenant> <level>',
      `declare a tenant's sensitivity (${LEVELS.join(', ')}); used by its next classification`,
    ).requiredOption('--reason <text>', 'why (kept in the audit log)'),
  ).action(async (tenant: string, level: string, o: ChangeOptions) => {
    if (!LEVELS.includes(level)) {
      throw new CliError(`level must be one of ${LEVELS.join(', ')}; got "${level}"`, EXIT.usage);
    }
    const r = await connect(o).put<{ tenant: Tenant; classification: Evaluation }>(
      `/tenants/${seg(tenant)}/sensitivity`,
      { level, reason: o.reason },
      o.ifVersion,
    );
    emit(o, r, (x) => {
      out(
        `Tenant ${x.tenant.id} declared sensitivity ${x.tenant.riskProfile.declaredSensitivity} ` +
          `(version ${x.tenant.version}). Its classification would now be ${x.classification.groupId} ` +
          `(currently ${x.classification.fromGroupId}).`,
      );
      printFactors(x.classification);
    });
  });
}
