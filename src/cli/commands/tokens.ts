import type { Command } from 'commander';
import type { AdminToken } from '../../registry/types.js';
import { seg } from '../admin-client.js';
import {
  adminCommand,
  type ChangeOptions,
  choiceOption,
  connect,
  emit,
  reasonBody,
  withReason,
} from '../command-kit.js';
import { out, printRecord, printSecret, printTable, shortTime } from '../output.js';

/** What the API returns for a token: never the hash. */
type AdminTokenView = Omit<AdminToken, 'tokenHash'>;

interface TokenOptions extends ChangeOptions {
  name?: string;
  role?: string;
  tenant?: string;
}

/** `tokens ...`: admin API tokens and their roles (operators only). */
export function registerTokenCommands(program: Command): void {
  const tokens = program.command('tokens').description('admin API tokens and their roles');

  adminCommand(tokens, 'list', 'list admin tokens').action(async (o: ChangeOptions) => {
    const res = await connect(o).get<{ items: AdminTokenView[] }>('/tokens');
    emit(o, res, (r) =>
      printTable(
        ['id', 'name', 'role', 'tenant', 'prefix', 'revoked', 'created'],
        r.items.map((t) => [
          t.id,
          t.name,
          t.role,
          t.tenantId,
          t.prefix,
          shortTime(t.revokedAt),
          shortTime(t.createdAt),
        ]),
        'No admin tokens.',
      ),
    );
  });

  withReason(
    adminCommand(tokens, 'create', 'issue an admin token (the secret is shown once)')
      .requiredOption('--name <name>', 'who or what uses it')
      .addOption(
        choiceOption('--role <role>', 'what it may do', [
          'operator',
          'approver',
          'viewer',
          'tenant_contact',
        ]).makeOptionMandatory(),
      )
      .option('--tenant <id>', 'with role tenant_contact: the one tenant it may act on'),
  ).action(async (o: TokenOptions) => {
    const res = await connect(o).post<{ token: AdminTokenView; secret: string }>('/tokens', {
      name: o.name,
      role: o.role,
      tenantId: o.tenant,
      reason: o.reason,
    });
    emit(o, res, (r) => {
      out(`Created ${r.token.role} token ${r.token.id}.`);
      printRecord(r.token);
    });
    printSecret('admin token', res.secret, o.json);
  });

  withReason(adminCommand(tokens, 'revoke <id>', 'revoke an admin token at once')).action(
    async (id: string, o: ChangeOptions) => {
      const t = await connect(o).delete<AdminTokenView>(`/tokens/${seg(id)}`, reasonBody(o));
      emit(o, t, () => out(`Revoked admin token ${t.id} (${t.name}).`));
    },
  );
}
