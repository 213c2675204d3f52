import type { Command } from 'commander';
import type { Contract, ContractDefinition } from '../../registry/types.js';
import { seg } from '../admin-client.js';
import {
  adminCommand,
  type ChangeOptions,
  connect,
  emit,
  reasonBody,
  withIfVersion,
  withReason,
} from '../command-kit.js';
import { CliError, EXIT } from '../exit-codes.js';
import { readObject } from '../input-files.js';
import { note, out, printRecord, printTable, shortTime } from '../output.js';

interface DefinitionOptions {
  name?: string;
  toolSchema?: string;
  regex?: string;
  flags?: string;
  jsonSchema?: string;
  description?: string;
}
type ContractOptions = DefinitionOptions & ChangeOptions & { modelVersion?: string };

/**
 * A tool schema file may hold the bare JSON Schema of the arguments, or a whole tool as the
 * providers spell it (OpenAI `{type:"function",function:{...}}`, Anthropic `{name,input_schema}`),
 * so a tool definition can be registered as copied from agent code.
 */
export function toolFromFile(doc: Record<string, unknown>): {
  parameters: Record<string, unknown>;
  description?: string;
  name?: string;
} {
  const fn = doc.type === 'function' && isObject(doc.function) ? doc.function : undefined;
  const tool = fn ?? (isObject(doc.input_schema) && typeof doc.name === 'string' ? doc : undefined);
  if (!tool) return { parameters: doc };
  const parameters = (fn ? fn.parameters : tool.input_schema) ?? {};
  if (!isObject(parameters))
    throw new CliError('the tool definition has no object schema for its arguments', EXIT.invalid);
  return {
    parameters,
    ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
    ...(typeof tool.name === 'string' ? { name: tool.name } : {}),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Exactly one of --tool-schema, --regex, --json-schema says what kind of contract this is. */
export function definitionFromOptions(o: DefinitionOptions): ContractDefinition {
  const given = [o.toolSchema, o.regex, o.jsonSchema].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new CliError(
      'give exactly one of --tool-schema <file>, --regex <pattern>, --json-schema <file>',
      EXIT.usage,
    );
  }
  if (o.flags !== undefined && o.regex === undefined)
    throw new CliError('--flags goes with --regex', EXIT.usage);
  if (o.description !== undefined && o.toolSchema === undefined) {
    throw new CliError('--description goes with --tool-schema', EXIT.usage);
  }
  if (o.regex !== undefined) {
    return { kind: 'format_regex', pattern: o.regex, ...(o.flags !== undefined ? { flags: o.flags } : {}) };
  }
  if (o.jsonSchema !== undefined) return { kind: 'format_json_schema', schema: readObject(o.jsonSchema) };
  const file = o.toolSchema ?? '';
  const tool = toolFromFile(readObject(file));
  if (tool.name && o.name && tool.name !== o.name) {
    note(`note: ${file} names the tool '${tool.name}'; registering it as '${o.name}' (--name)`);
  }
  const description = o.description ?? tool.description;
  return { kind: 'tool', parameters: tool.parameters, ...(description !== undefined ? { description } : {}) };
}

function withDefinitionFields(cmd: Command): Command {
  return cmd
    .option(
      '--tool-schema <file.json>',
      'a tool: JSON Schema of its arguments (or a whole OpenAI/Anthropic tool)',
    )
    .option('--description <text>', 'with --tool-schema: the tool description')
    .option('--regex <pattern>', 'an output format: a regular expression the output must match')
    .option('--flags <flags>', 'with --regex: any of i, m, s, u')
    .option('--json-schema <file.json>', 'an output format: a JSON Schema the (JSON) output must satisfy');
}

function printContract(c: Contract): void {
  const { definition, ...meta } = c;
  printRecord({ ...meta, kind: definition.kind });
  out(`definition:\n${JSON.stringify(definition, null, 2)}`);
}

/** `contracts ...`: what a tenant's code depends on, per model version: tool schemas and formats. */
export function registerContractCommands(program: Command): void {
  const contracts = program.command('contracts').description("a tenant's tool and output format contracts");
  const base = (tenant: string) => `/tenants/${seg(tenant)}/contracts`;

  adminCommand(contracts, 'list <tenant>', "list a tenant's contracts")
    .option('--model-version <id>', 'only those registered against this model version')
    .action(async (tenant: string, o: ContractOptions) => {
      const res = await connect(o).get<{ items: Contract[] }>(base(tenant), {
        modelVersionId: o.modelVersion,
      });
      emit(o, res, (r) =>
        printTable(
          ['id', 'model version', 'name', 'kind', 'version', 'updated'],
          r.items.map((c) => [
            c.id,
            c.modelVersionId,
            c.name,
            c.definition.kind,
            c.version,
            shortTime(c.updatedAt),
          ]),
          `No contracts for ${tenant}.`,
        ),
      );
    });

  adminCommand(contracts, 'show <tenant> <contractId>', 'show one contract and its definition').action(
    async (tenant: string, id: string, o: ChangeOptions) => {
      emit(o, await connect(o).get<Contract>(`${base(tenant)}/${seg(id)}`), printContract);
    },
  );

  const register = adminCommand(contracts, 'register <tenant>', 'register a tool or output format contract')
    .requiredOption('--model-version <id>', 'the model version it applies to')
    .requiredOption('--name <toolName>', 'the tool name, or the format contract name');
  withReason(withDefinitionFields(register)).action(async (tenant: string, o: ContractOptions) => {
    const definition = definitionFromOptions(o);
    const c = await connect(o).post<Contract>(base(tenant), {
      modelVersionId: o.modelVersion,
      name: o.name,
      definition,
      reason: o.reason,
    });
    emit(o, c, () => out(`Registered ${c.definition.kind} contract ${c.id}.`));
  });

  const update = adminCommand(contracts, 'update <tenant> <contractId>', "replace a contract's definition");
  withIfVersion(withReason(withDefinitionFields(update))).action(
    async (tenant: string, id: string, o: ContractOptions) => {
      const definition = definitionFromOptions(o);
      const c = await connect(o).put<Contract>(
        `${base(tenant)}/${seg(id)}`,
        { definition, reason: o.reason },
        o.ifVersion,
      );
      emit(o, c, () => out(`Updated contract ${c.id} (now version ${c.version}).`));
    },
  );

  withIfVersion(
    withReason(adminCommand(contracts, 'delete <tenant> <contractId>', 'delete a contract')),
  ).action(async (tenant: string, id: string, o: ChangeOptions) => {
    const c = await connect(o).delete<Contract>(`${base(tenant)}/${seg(id)}`, reasonBody(o), o.ifVersion);
    emit(o, c, () => out(`Deleted contract ${c.id}.`));
  });
}
