import type { Command } from 'commander';
import type { TenantChannel } from '../../registry/types.js';
import { seg } from '../admin-client.js';
import {
  adminCommand,
  type ChangeOptions,
  connect,
  emit,
  parseNumber,
  reasonBody,
  requireChange,
  withIfVersion,
  withReason,
} from '../command-kit.js';
import { out, printRecord, printTable } from '../output.js';

interface ChannelOptions extends ChangeOptions {
  channel?: string;
  stable?: string;
  /** false with --no-candidate: clear the candidate. */
  candidate?: string | false;
  canaryPercent?: number;
  shadowPercent?: number;
  upgradeId?: string | false;
  pinned?: boolean;
}

function withBindingFields(cmd: Command): Command {
  return cmd
    .option('--candidate <modelVersionId>', 'the candidate version')
    .option(
      '--canary-percent <n>',
      'share of new sessions on the candidate, 0 to 100',
      parseNumber('a percentage'),
    )
    .option(
      '--shadow-percent <n>',
      'share of requests mirrored to the candidate, 0 to 100',
      parseNumber('a percentage'),
    )
    .option('--upgrade-id <id>', 'the upgrade this candidate belongs to (part of the canary bucketing)')
    .option('--pinned', 'pinned by contract: upgrades skip this tenant on this channel')
    .option('--no-pinned', 'not pinned');
}

/** false (from a --no-x option) means "clear it", which the API spells null. */
const orNull = <T>(v: T | false | undefined): T | null | undefined => (v === false ? null : v);

function bindingBody(o: ChannelOptions) {
  return {
    stableVersionId: o.stable,
    candidateVersionId: orNull(o.candidate),
    canaryPercent: o.canaryPercent,
    shadowPercent: o.shadowPercent,
    upgradeId: orNull(o.upgradeId),
    pinned: o.pinned,
    reason: o.reason,
  };
}

/** `channels ...`: which model version each channel of a tenant is on, and its candidate. */
export function registerChannelCommands(program: Command): void {
  const channels = program
    .command('channels')
    .description("a tenant's channel bindings (stable, candidate, canary)");
  const base = (tenant: string) => `/tenants/${seg(tenant)}/channels`;

  adminCommand(channels, 'list <tenant>', "list a tenant's channel bindings").action(
    async (tenant: string, o: ChangeOptions) => {
      const res = await connect(o).get<{ items: TenantChannel[] }>(base(tenant));
      emit(o, res, (r) =>
        printTable(
          ['channel', 'stable', 'candidate', 'canary %', 'shadow %', 'pinned', 'upgrade', 'version'],
          r.items.map((b) => [
            b.channel,
            b.stableVersionId,
            b.candidateVersionId,
            b.canaryPercent,
            b.shadowPercent,
            b.pinned,
            b.upgradeId,
            b.version,
          ]),
          `No channels bound for ${tenant}.`,
        ),
      );
    },
  );

  adminCommand(channels, 'show <tenant> <channel>', 'show one channel binding').action(
    async (tenant: string, channel: string, o: ChangeOptions) => {
      emit(o, await connect(o).get<TenantChannel>(`${base(tenant)}/${seg(channel)}`), printRecord);
    },
  );

  const bind = adminCommand(channels, 'bind <tenant>', 'bind a channel of a tenant to a stable model version')
    .requiredOption('--channel <channel>', 'the channel agents ask for, e.g. gpt-5-turbo')
    .requiredOption('--stable <modelVersionId>', 'the version that serves the tenant');
  withReason(withBindingFields(bind)).action(async (tenant: string, o: ChannelOptions) => {
    const b = await connect(o).post<TenantChannel>(base(tenant), { channel: o.channel, ...bindingBody(o) });
    emit(o, b, () => {
      out(`Bound ${b.tenantId} channel ${b.channel} to ${b.stableVersionId}.`);
      printRecord(b);
    });
  });

  // The --no-* options come after their positive forms, or commander would default them to true.
  const update = withBindingFields(
    adminCommand(channels, 'update <tenant> <channel>', 'change a binding (only the options given)').option(
      '--stable <modelVersionId>',
      'the version that serves the tenant',
    ),
  )
    .option('--no-candidate', 'remove the candidate')
    .option('--no-upgrade-id', 'clear the upgrade id');
  withIfVersion(withReason(update)).action(async (tenant: string, channel: string, o: ChannelOptions) => {
    const b = await connect(o).patch<TenantChannel>(
      `${base(tenant)}/${seg(channel)}`,
      requireChange(bindingBody(o), 'the options in --help'),
      o.ifVersion,
    );
    emit(o, b, () => {
      out(`Updated ${b.tenantId} channel ${b.channel} (now version ${b.version}).`);
      printRecord(b);
    });
  });

  withIfVersion(
    withReason(adminCommand(channels, 'unbind <tenant> <channel>', 'remove a channel binding')),
  ).action(async (tenant: string, channel: string, o: ChangeOptions) => {
    const b = await connect(o).delete<TenantChannel>(
      `${base(tenant)}/${seg(channel)}`,
      reasonBody(o),
      o.ifVersion,
    );
    emit(o, b, () => out(`Unbound ${b.tenantId} channel ${b.channel}.`));
  });
}
