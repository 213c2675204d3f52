import type { Command } from 'commander';
import type { ModelVersion } from '../../registry/types.js';
import { seg } from '../admin-client.js';
import {
  adminCommand,
  type ChangeOptions,
  choiceOption,
  connect,
  emit,
  reasonBody,
  requireChange,
  withIfVersion,
  withReason,
} from '../command-kit.js';
import { out, printRecord, printTable } from '../output.js';

const LIFECYCLES = ['active', 'candidate', 'deprecated', 'warm', 'retired'];

interface ModelOptions extends ChangeOptions {
  channel?: string;
  provider?: string;
  upstreamModel?: string;
  endpoint?: string;
  credentialsRef?: string;
  lifecycle?: string;
  /** false with --no-warm-until: clear it. */
  warmUntil?: string | false;
}

function withModelFields(cmd: Command): Command {
  return cmd
    .option('--credentials-ref <ref>', 'where the provider key lives: env:NAME, or none (default none)')
    .addOption(choiceOption('--lifecycle <state>', 'lifecycle state (default candidate)', LIFECYCLES))
    .option('--warm-until <date-time>', 'with lifecycle warm: serve pinned sessions until then');
}

function modelBody(o: ModelOptions) {
  return {
    upstreamModel: o.upstreamModel,
    endpoint: o.endpoint,
    credentialsRef: o.credentialsRef,
    lifecycle: o.lifecycle,
    warmUntil: o.warmUntil === false ? null : o.warmUntil,
    reason: o.reason,
  };
}

/** `models ...`: the catalogue of concrete, dated model versions behind each channel. */
export function registerModelCommands(program: Command): void {
  const models = program.command('models').description('model versions (the catalogue)');
  const path = (id: string) => `/models/${seg(id)}`;

  adminCommand(models, 'list', 'list model versions')
    .option('--channel <channel>', 'only this channel')
    .action(async (o: ModelOptions) => {
      const res = await connect(o).get<{ items: ModelVersion[] }>('/models', { channel: o.channel });
      emit(o, res, (r) =>
        printTable(
          ['id', 'channel', 'provider', 'upstream model', 'lifecycle', 'endpoint', 'credentials', 'version'],
          r.items.map((m) => [
            m.id,
            m.channel,
            m.providerKind,
            m.upstreamModel,
            m.lifecycle,
            m.endpoint,
            m.credentialsRef,
            m.version,
          ]),
          'No model versions.',
        ),
      );
    });

  adminCommand(models, 'show <id>', 'show one model version').action(async (id: string, o: ChangeOptions) => {
    emit(o, await connect(o).get<ModelVersion>(path(id)), printRecord);
  });

  const create = adminCommand(models, 'create <id>', 'add a model version')
    .requiredOption('--channel <channel>', 'the channel agents ask for, e.g. gpt-5-turbo')
    .addOption(
      choiceOption('--provider <kind>', 'wire format of the upstream', [
        'openai-compatible',
        'anthropic',
      ]).makeOptionMandatory(),
    )
    .requiredOption('--upstream-model <name>', "the provider's model name")
    .requiredOption('--endpoint <url>', "the provider's base URL");
  withReason(withModelFields(create)).action(async (id: string, o: ModelOptions) => {
    const m = await connect(o).post<ModelVersion>('/models', {
      id,
      channel: o.channel,
      providerKind: o.provider,
      ...modelBody(o),
    });
    emit(o, m, () => {
      out(`Created model version ${m.id} (${m.lifecycle}) on channel ${m.channel}.`);
      printRecord(m);
    });
  });

  const update = withModelFields(
    adminCommand(models, 'update <id>', 'change a model version (only the options given)')
      .option('--upstream-model <name>', "the provider's model name")
      .option('--endpoint <url>', "the provider's base URL"),
  ).option('--no-warm-until', 'clear warm-until');
  withIfVersion(withReason(update)).action(async (id: string, o: ModelOptions) => {
    const body = requireChange(modelBody(o), 'the options in --help');
    const m = await connect(o).patch<ModelVersion>(path(id), body, o.ifVersion);
    emit(o, m, () => {
      out(`Updated model version ${m.id} (now version ${m.version}).`);
      printRecord(m);
    });
  });

  withIfVersion(
    withReason(adminCommand(models, 'delete <id>', 'delete a model version (refused while referenced)')),
  ).action(async (id: string, o: ChangeOptions) => {
    const m = await connect(o).delete<ModelVersion>(path(id), reasonBody(o), o.ifVersion);
    emit(o, m, () => out(`Deleted model version ${m.id}.`));
  });
}
