import { type Command, InvalidArgumentError } from 'commander';
import type { Contact, Tenant } from '../../registry/types.js';
import { seg } from '../admin-client.js';
import {
  adminCommand,
  type ChangeOptions,
  choiceOption,
  connect,
  emit,
  parseInteger,
  reasonBody,
  requireChange,
  withIfVersion,
  withReason,
} from '../command-kit.js';
import { out, printRecord, printTable, shortTime } from '../output.js';
import { registerKeyCommands } from './keys.js';

const LEVELS = ['low', 'medium', 'high'] as const;

interface TenantOptions extends ChangeOptions {
  name?: string;
  group?: string;
  frozen?: boolean;
  failurePolicy?: string;
  actionPolicy?: string;
  criticality?: string;
  toolCallComplexity?: string;
  outputFormatRigidity?: string;
  declaredSensitivity?: string;
  regressionHistory?: number;
  /** false with --no-contact: clear the list. */
  contact?: Contact[] | false;
}

/** `Name <email>`, as in a mail header; repeated --contact options accumulate. */
export function parseContact(raw: string, previous: Contact[] | false | undefined): Contact[] {
  const m = /^\s*(.+?)\s*<\s*([^<>\s]+@[^<>\s]+)\s*>\s*$/.exec(raw);
  if (!m?.[1] || !m[2]) throw new InvalidArgumentError('expected "Name <email>"');
  return [...(previous || []), { name: m[1], email: m[2] }];
}

function withTenantFields(cmd: Command): Command {
  return cmd
    .option('--group <id>', 'rollout group (pioneers, early, standard, conservative or another)')
    .addOption(
      choiceOption('--failure-policy <policy>', 'on an invalid tool call', [
        'fallback',
        'error',
        'coerce',
        'pass',
      ]),
    )
    .addOption(choiceOption('--action-policy <policy>', 'on a regression', ['pause', 'rollback', 'escalate']))
    .addOption(choiceOption('--criticality <level>', 'risk profile', LEVELS))
    .addOption(choiceOption('--tool-call-complexity <level>', 'risk profile', LEVELS))
    .addOption(choiceOption('--output-format-rigidity <level>', 'risk profile', LEVELS))
    .addOption(choiceOption('--declared-sensitivity <level>', 'risk profile', LEVELS))
    .option(
      '--regression-history <n>',
      'risk profile: regressions seen in past upgrades',
      parseInteger('a count'),
    )
    .option('--contact <"Name <email>">', 'a contact (repeatable; replaces the list)', parseContact)
    .option('--no-contact', 'remove all contacts');
}

/** The request body shared by create and update; unset options stay undefined and are not sent. */
function tenantBody(o: TenantOptions) {
  const risk = {
    criticality: o.criticality,
    toolCallComplexity: o.toolCallComplexity,
    outputFormatRigidity: o.outputFormatRigidity,
    declaredSensitivity: o.declaredSensitivity,
    regressionHistory: o.regressionHistory,
  };
  return {
    name: o.name,
    rolloutGroup: o.group,
    frozen: o.frozen,
    failurePolicy: o.failurePolicy,
    actionPolicy: o.actionPolicy,
    riskProfile: Object.values(risk).some((v) => v !== undefined) ? risk : undefined,
    contacts: o.contact === false ? [] : o.contact,
    reason: o.reason,
  };
}

const contactsText = (v: unknown) =>
  Array.isArray(v) && v.length > 0 ? (v as Contact[]).map((c) => `${c.name} <${c.email}>`).join(', ') : '-';

export function printTenant(t: Tenant): void {
  printRecord(t, { contacts: contactsText });
}

export function registerTenantCommands(program: Command): void {
  const tenants = program.command('tenants').description('tenants, their policies and risk profiles');
  const path = (id: string) => `/tenants/${seg(id)}`;

  adminCommand(tenants, 'list', 'list tenants').action(async (o: ChangeOptions) => {
    const res = await connect(o).get<{ items: Tenant[] }>('/tenants');
    emit(o, res, (r) =>
      printTable(
        [
          'id',
          'name',
          'group',
          'frozen',
          'failure policy',
          'action policy',
          'criticality',
          'version',
          'updated',
        ],
        r.items.map((t) => [
          t.id,
          t.name,
          t.rolloutGroup,
          t.frozen,
          t.failurePolicy,
          t.actionPolicy,
          t.riskProfile.criticality,
          t.version,
          shortTime(t.updatedAt),
        ]),
        'No tenants.',
      ),
    );
  });

  adminCommand(tenants, 'show <id>', 'show one tenant').action(async (id: string, o: ChangeOptions) => {
    emit(o, await connect(o).get<Tenant>(path(id)), printTenant);
  });

  const create = adminCommand(tenants, 'create <id>', 'create a tenant')
    .requiredOption('--name <name>', 'display name')
    .option('--frozen', 'create it frozen (upgrades skip it)');
  withReason(withTenantFields(create)).action(async (id: string, o: TenantOptions) => {
    const t = await connect(o).post<Tenant>('/tenants', { id, ...tenantBody(o) });
    emit(o, t, () => {
      out(`Created tenant ${t.id}.`);
      printTenant(t);
    });
  });

  const update = adminCommand(tenants, 'update <id>', 'change a tenant (only the options given)').option(
    '--name <name>',
    'display name',
  );
  withIfVersion(withReason(withTenantFields(update))).action(async (id: string, o: TenantOptions) => {
    const body = requireChange(tenantBody(o), 'the options in --help');
    const t = await connect(o).patch<Tenant>(path(id), body, o.ifVersion);
    emit(o, t, () => {
      out(`Updated tenant ${t.id} (now version ${t.version}).`);
      printTenant(t);
    });
  });

  for (const [name, frozen] of [
    ['freeze', true],
    ['unfreeze', false],
  ] as const) {
    const desc = frozen ? 'freeze a tenant: upgrades and rollouts skip it' : 'unfreeze a tenant';
    withIfVersion(withReason(adminCommand(tenants, `${name} <id>`, desc))).action(
      async (id: string, o: ChangeOptions) => {
        const t = await connect(o).patch<Tenant>(path(id), { frozen, reason: o.reason }, o.ifVersion);
        emit(o, t, () =>
          out(`Tenant ${t.id} is ${t.frozen ? 'frozen' : 'not frozen'} (version ${t.version}).`),
        );
      },
    );
  }

  withIfVersion(
    withReason(adminCommand(tenants, 'delete <id>', 'delete a tenant (refused while referenced)')),
  ).action(async (id: string, o: ChangeOptions) => {
    const t = await connect(o).delete<Tenant>(path(id), reasonBody(o), o.ifVersion);
    emit(o, t, () => out(`Deleted tenant ${t.id}.`));
  });

  registerKeyCommands(tenants);
}
