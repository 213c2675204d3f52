import { writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import {
  type IncidentReport,
  type IncidentSummary,
  renderIncidentHtml,
  renderIncidentMarkdown,
} from '../../rollout/incident.js';
import type { Upgrade } from '../../rollout/rollout-types.js';
import type { RolloutView, UpgradeStatus } from '../../rollout/upgrade-service.js';
import { seg } from '../admin-client.js';
import { adminCommand, type ChangeOptions, connect, emit, parseInteger, withReason } from '../command-kit.js';
import { note, out, printRecord, printTable, shortTime } from '../output.js';

interface UpgradeOptions extends ChangeOptions {
  from?: string;
  to?: string;
  tenant?: string[] | string;
  stage?: number;
  format?: string;
  output?: string;
  upgrade?: string;
  limit?: number;
}

const stageText = (r: RolloutView) =>
  `${r.phase}${r.stage === null ? '' : ` ${r.stage}`}${r.rollbackStep && r.phase === 'rolling_back' ? ` (${r.rollbackStep})` : ''}`;

function printStatus(s: UpgradeStatus): void {
  const u = s.upgrade;
  printRecord({
    id: u.id,
    channel: u.channel,
    from: u.fromVersionId,
    to: u.toVersionId,
    state: u.state,
    by: u.createdBy,
    reason: u.reason,
    started: shortTime(u.createdAt),
    phases: Object.entries(s.counts)
      .map(([phase, n]) => `${phase} ${n}`)
      .join(', '),
  });
  printTable(
    ['tenant', 'group', 'phase', 'since', 'approvals', 'guard', 'reason'],
    s.rollouts.map((r) => [
      r.tenantId,
      r.groupId,
      stageText(r),
      shortTime(r.phaseSince),
      r.approvals.map((a) => `${a.stage}:${a.party}:${a.by}`).join(' ') || '-',
      r.guard ? `${r.guard.verdict}: ${r.guard.reason}` : '-',
      r.reason,
    ]),
    'No tenant rollouts.',
  );
  if (s.skipped.length > 0) {
    out('Skipped:');
    printTable(
      ['tenant', 'reason'],
      s.skipped.map((x) => [x.tenantId, x.reason]),
      '',
    );
  }
}

function printRollout(r: RolloutView): void {
  printRecord({
    tenant: r.tenantId,
    phase: stageText(r),
    approvals: r.approvals.map((a) => `stage ${a.stage} ${a.party} by ${a.by}`).join('; ') || '-',
    reason: r.reason,
  });
}

/**
 * `upgrades ...`: start an upgrade of a channel across the fleet, watch it, pause, resume or abort
 * it (or one tenant), and approve or reject a stage. `incidents ...`: the rollback reports.
 */
export function registerUpgradeCommands(program: Command): void {
  const upgrades = program
    .command('upgrades')
    .description('fleet upgrades of a channel, and stage approvals');
  const path = (id: string) => `/upgrades/${seg(id)}`;

  adminCommand(upgrades, 'list', 'list upgrades, newest first').action(async (o: UpgradeOptions) => {
    const res = await connect(o).get<{ items: Upgrade[] }>('/upgrades');
    emit(o, res, (r) =>
      printTable(
        ['id', 'channel', 'from', 'to', 'state', 'started', 'by'],
        r.items.map((u) => [
          u.id,
          u.channel,
          u.fromVersionId,
          u.toVersionId,
          u.state,
          shortTime(u.createdAt),
          u.createdBy,
        ]),
        'No upgrades.',
      ),
    );
  });

  withReason(
    adminCommand(upgrades, 'start <channel>', 'move a channel from one version to another across the fleet')
      .requiredOption('--from <version>', 'the version tenants run now')
      .requiredOption('--to <version>', 'the candidate version')
      .option('--tenant <id...>', 'only these tenants (default: every tenant on --from)'),
  ).action(async (channel: string, o: UpgradeOptions) => {
    const tenants = o.tenant === undefined ? undefined : ([] as string[]).concat(o.tenant);
    const s = await connect(o).post<UpgradeStatus>('/upgrades', {
      channel,
      fromVersionId: o.from,
      toVersionId: o.to,
      tenants,
      reason: o.reason,
    });
    emit(o, s, () => {
      out(`Started upgrade ${s.upgrade.id}: ${s.rollouts.length} tenants, ${s.skipped.length} skipped.`);
      printStatus(s);
    });
  });

  adminCommand(upgrades, 'status <upgrade>', 'an upgrade and where each tenant stands').action(
    async (id: string, o: UpgradeOptions) => {
      emit(o, await connect(o).get<UpgradeStatus>(path(id)), printStatus);
    },
  );

  for (const [name, help] of [
    ['pause', 'hold an upgrade (or one tenant with --tenant) where it is'],
    ['resume', 'let a paused upgrade (or tenant) continue; a tenant restarts its stage soak'],
  ] as const) {
    withReason(
      adminCommand(upgrades, `${name} <upgrade>`, help).option('--tenant <id>', 'only this tenant'),
    ).action(async (id: string, o: UpgradeOptions) => {
      const s = await connect(o).post<UpgradeStatus>(`${path(id)}/${name}`, {
        tenantId: typeof o.tenant === 'string' ? o.tenant : o.tenant?.[0],
        reason: o.reason,
      });
      emit(o, s, () => {
        out(
          `${name === 'pause' ? 'Paused' : 'Resumed'} ${o.tenant ? `tenant ${String(o.tenant)} of ` : ''}upgrade ${id}.`,
        );
        printStatus(s);
      });
    });
  }

  withReason(
    adminCommand(
      upgrades,
      'abort <upgrade>',
      'abort an upgrade: every tenant with candidate traffic rolls back',
    ),
  ).action(async (id: string, o: UpgradeOptions) => {
    const s = await connect(o).post<UpgradeStatus>(`${path(id)}/abort`, { reason: o.reason });
    emit(o, s, () => {
      out(`Aborted upgrade ${id}; the controller rolls its tenants back.`);
      printStatus(s);
    });
  });

  adminCommand(
    upgrades,
    'rollback <upgrade> <tenant>',
    'roll one tenant back (freeze, drain, cut); operators only',
  )
    .requiredOption('--reason <text>', 'why (kept in the rollout history and the incident report)')
    .action(async (id: string, tenantId: string, o: UpgradeOptions) => {
      const r = await connect(o).post<{ tenantId: string; phase: string }>(`${path(id)}/rollback`, {
        tenantId,
        reason: o.reason,
      });
      emit(o, r, () =>
        out(`Rolling back ${r.tenantId}: new sessions stay on stable now; the rest drain, then are cut.`),
      );
    });

  for (const [name, route, help] of [
    ['approve', 'approvals', 'approve a stage for a tenant (approver: platform; tenant contact: tenant)'],
    ['reject', 'rejections', 'reject a stage for a tenant: its rollout rolls back'],
  ] as const) {
    withReason(
      adminCommand(upgrades, `${name} <upgrade> <tenant>`, help).requiredOption(
        '--stage <n>',
        'the stage, counted from 1',
        parseInteger('a stage number', 1),
      ),
    ).action(async (id: string, tenant: string, o: UpgradeOptions) => {
      const r = await connect(o).post<RolloutView>(`${path(id)}/${route}`, {
        tenantId: tenant,
        stage: o.stage,
        reason: o.reason,
      });
      emit(o, r, () => {
        out(`${name === 'approve' ? 'Approved' : 'Rejected'} stage ${o.stage} of ${tenant}.`);
        printRollout(r);
      });
    });
  }

  const incidents = program.command('incidents').description('incident reports of rollbacks and escalations');

  adminCommand(incidents, 'list', 'list incident reports, newest first')
    .option('--tenant <id>', 'only this tenant')
    .option('--upgrade <id>', 'only this upgrade')
    .option('--limit <n>', 'at most this many', parseInteger('a count', 1))
    .action(async (o: UpgradeOptions) => {
      const res = await connect(o).get<{ items: IncidentSummary[] }>('/incidents', {
        tenantId: typeof o.tenant === 'string' ? o.tenant : undefined,
        upgradeId: o.upgrade,
        limit: o.limit,
      });
      emit(o, res, (r) =>
        printTable(
          ['id', 'created', 'kind', 'tenant', 'upgrade', 'reason'],
          r.items.map((i) => [i.id, shortTime(i.createdAt), i.kind, i.tenantId, i.upgradeId, i.reason]),
          'No incidents.',
        ),
      );
    });

  adminCommand(incidents, 'show <id>', 'an incident report')
    .addOption(
      new Option('--format <format>', 'md, html or json').choices(['md', 'html', 'json']).default('md'),
    )
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (id: string, o: UpgradeOptions) => {
      const report = await connect(o).get<IncidentReport>(`/incidents/${seg(id)}`);
      const format = o.json ? 'json' : o.format;
      const text =
        format === 'json'
          ? `${JSON.stringify(report, null, 2)}\n`
          : format === 'html'
            ? renderIncidentHtml(report)
            : renderIncidentMarkdown(report);
      if (o.output) {
        writeFileSync(o.output, text);
        note(`wrote ${o.output}`);
      } else out(text);
    });
}
