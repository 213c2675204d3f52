import type { Command } from 'commander';
import type { PlanStage, RolloutGroup } from '../../registry/types.js';
import { seg } from '../admin-client.js';
import {
  adminCommand,
  type ChangeOptions,
  connect,
  emit,
  parseInteger,
  requireChange,
  withIfVersion,
  withReason,
} from '../command-kit.js';
import { readObject } from '../input-files.js';
import { out, printRecord, printTable } from '../output.js';

interface GroupOptions extends ChangeOptions {
  name?: string;
  rank?: number;
  plan?: string;
}

/** `5%/24h -> 25%/24h+approval`: a plan's stages on one line. */
export function stagesText(stages: readonly PlanStage[]): string {
  return stages
    .map((s) => `${s.percent}%/${s.soakHours}h${s.approvals.length ? `+${s.approvals.join('&')}` : ''}`)
    .join(' -> ');
}

function printGroup(g: RolloutGroup): void {
  const { plan, ...meta } = g;
  printRecord({
    ...meta,
    shadowHours: plan.shadowHours,
    minDurationHours: plan.minDurationHours,
    betsThresholds: plan.betsThresholds,
  });
  printTable(
    ['stage', 'percent', 'soak hours', 'approvals'],
    plan.stages.map((s, i) => [i + 1, s.percent, s.soakHours, s.approvals.join(', ') || 'none']),
    'No stages.',
  );
}

/** A plan file is the plan object itself, JSON or YAML; the server validates its fields. */
const readPlan = (file: string) => readObject(file, { yaml: true });

/** `groups ...`: rollout groups and their plans (stages, soaks, approvals, BETS thresholds). */
export function registerGroupCommands(program: Command): void {
  const groups = program.command('groups').description('rollout groups and their plans');
  const path = (id: string) => `/groups/${seg(id)}`;

  adminCommand(groups, 'list', 'list rollout groups, in rollout order').action(async (o: ChangeOptions) => {
    const res = await connect(o).get<{ items: RolloutGroup[] }>('/groups');
    emit(o, res, (r) =>
      printTable(
        ['rank', 'id', 'name', 'stages', 'shadow h', 'min duration h', 'version'],
        r.items.map((g) => [
          g.rank,
          g.id,
          g.name,
          stagesText(g.plan.stages),
          g.plan.shadowHours,
          g.plan.minDurationHours,
          g.version,
        ]),
        'No rollout groups.',
      ),
    );
  });

  adminCommand(groups, 'show <id>', 'show a rollout group and its plan').action(
    async (id: string, o: ChangeOptions) => {
      emit(o, await connect(o).get<RolloutGroup>(path(id)), printGroup);
    },
  );

  withReason(
    adminCommand(groups, 'create <id>', 'add a rollout group')
      .requiredOption('--name <name>', 'display name')
      .requiredOption('--rank <n>', 'rollout order: lower goes first', parseInteger('a rank'))
      .requiredOption('--plan <file>', 'the plan, JSON or YAML (.yaml/.yml)'),
  ).action(async (id: string, o: GroupOptions) => {
    const g = await connect(o).post<RolloutGroup>('/groups', {
      id,
      name: o.name,
      rank: o.rank,
      plan: readPlan(o.plan ?? ''),
      reason: o.reason,
    });
    emit(o, g, () => {
      out(`Created rollout group ${g.id}.`);
      printGroup(g);
    });
  });

  withIfVersion(
    withReason(
      adminCommand(groups, 'update <id>', 'change a rollout group (only the options given)')
        .option('--plan <file>', 'the new plan, JSON or YAML (.yaml/.yml); replaces the whole plan')
        .option('--name <name>', 'display name')
        .option('--rank <n>', 'rollout order: lower goes first', parseInteger('a rank')),
    ),
  ).action(async (id: string, o: GroupOptions) => {
    const body = requireChange(
      {
        name: o.name,
        rank: o.rank,
        plan: o.plan === undefined ? undefined : readPlan(o.plan),
        reason: o.reason,
      },
      '--plan, --name, --rank',
    );
    const g = await connect(o).patch<RolloutGroup>(path(id), body, o.ifVersion);
    emit(o, g, () => {
      out(`Updated rollout group ${g.id} (now version ${g.version}).`);
      printGroup(g);
    });
  });
}
