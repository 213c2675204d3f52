import type { Command } from 'commander';
import type { AuditEntry } from '../../registry/types.js';
import { seg } from '../admin-client.js';
import {
  adminCommand,
  type ChangeOptions,
  choiceOption,
  connect,
  emit,
  parseInteger,
  withReason,
} from '../command-kit.js';
import { diffRecords, formatChanges, note, out, printRecord, printTable, shortTime } from '../output.js';

const ENTITY_KINDS = [
  'tenant',
  'api_key',
  'model_version',
  'tenant_channel',
  'contract',
  'rollout_group',
  'admin_token',
];

interface AuditListOptions extends ChangeOptions {
  tenant?: string;
  kind?: string;
  entity?: string;
  limit?: number;
  before?: number;
}

function printEntry(e: AuditEntry): void {
  const { before, after, ...meta } = e;
  printRecord(meta);
  out(`\nbefore:\n${before ? JSON.stringify(before, null, 2) : '(none: the record did not exist)'}`);
  out(`\nafter:\n${after ? JSON.stringify(after, null, 2) : '(none: the record was deleted)'}`);
  out(`\nchanges:\n${formatChanges(diffRecords(before, after))}`);
}

/** `audit ...` and `revert`: every registry change (who, what, before, after, why), and undoing one. */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the audit log of registry changes');

  adminCommand(audit, 'list', 'list changes, newest first')
    .option('--tenant <id>', "only this tenant's changes")
    .addOption(choiceOption('--kind <entityKind>', 'only this kind of record', ENTITY_KINDS))
    .option('--entity <id>', 'only changes to this record id')
    .option('--limit <n>', 'at most this many (1 to 500, default 50)', parseInteger('a count', 1))
    .option(
      '--before <seq>',
      'page: only changes before this sequence number',
      parseInteger('a sequence number'),
    )
    .action(async (o: AuditListOptions) => {
      const res = await connect(o).get<{ items: AuditEntry[] }>('/audit', {
        tenantId: o.tenant,
        entityKind: o.kind,
        entityId: o.entity,
        limit: o.limit,
        before: o.before,
      });
      emit(o, res, (r) => {
        printTable(
          ['seq', 'id', 'at', 'actor', 'action', 'entity', 'reason'],
          r.items.map((e) => [
            e.seq,
            e.id,
            shortTime(e.at),
            e.actor,
            e.action,
            `${e.entityKind}:${e.entityId}`,
            e.reason,
          ]),
          'No changes.',
        );
        const last = r.items.at(-1);
        // A full page suggests there is more: say how to get it.
        if (last && r.items.length === (o.limit ?? 50)) note(`more may exist: --before ${last.seq}`);
      });
    });

  adminCommand(audit, 'show <id>', 'show one change: before, after and what changed').action(
    async (id: string, o: ChangeOptions) => {
      emit(o, await connect(o).get<AuditEntry>(`/audit/${seg(id)}`), printEntry);
    },
  );

  withReason(
    adminCommand(
      program,
      'revert <changeId>',
      'undo one audited change (refused if the record changed since)',
    ),
  ).action(async (id: string, o: ChangeOptions) => {
    const e = await connect(o).post<AuditEntry>(`/audit/${seg(id)}/revert`, { reason: o.reason });
    emit(o, e, () => {
      out(`Reverted ${id}: ${e.entityKind} ${e.entityId} (${e.op}); this revert is change ${e.id}.`);
      out(formatChanges(diffRecords(e.before, e.after)));
    });
  });
}
