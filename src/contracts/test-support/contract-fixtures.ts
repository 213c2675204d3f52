/**
 * Contract records and BFCL-derived contract sets for tests and benchmarks (not used by the
 * request path). BFCL material: ../shared/data/bfcl beside the repository, see its README.md.
 */
import { join } from 'node:path';
import type { Contract, ContractDefinition } from '../../registry/types.js';
import { renamedKey, wrapInMarkdown } from '../../simulator/drift.js';
import {
  type BfclCase,
  type BfclGoldenCall,
  bfclGoldenCall,
  bfclToOpenAiTools,
  loadBfclAnswers,
  loadBfclCases,
} from '../bfcl-import.js';
import { findToolContract, type ToolCallInput } from '../tool-call-validator.js';

const AT = '2026-01-01T00:00:00.000Z';

export function makeContract(
  name: string,
  definition: ContractDefinition,
  opts: { tenantId?: string; modelVersionId?: string; version?: number; updatedAt?: string } = {},
): Contract {
  const tenantId = opts.tenantId ?? 'acme';
  const modelVersionId = opts.modelVersionId ?? 'gpt-x-2026-01';
  return {
    id: `${tenantId}:${modelVersionId}:${name}`,
    tenantId,
    modelVersionId,
    name,
    definition,
    version: opts.version ?? 1,
    createdAt: AT,
    updatedAt: opts.updatedAt ?? AT,
  };
}

export function toolContract(name: string, parameters: Record<string, unknown>, opts = {}): Contract {
  return makeContract(name, { kind: 'tool', parameters }, opts);
}

export function contractMap(contracts: readonly Contract[]): Map<string, Contract> {
  return new Map(contracts.map((c) => [c.name, c]));
}

import { BFCL_DIR } from '../../test-support/bfcl.js';

export { BFCL_DIR };
export const BFCL_FILES = ['BFCL_v4_simple_python', 'BFCL_v4_multiple', 'BFCL_v4_live_simple'] as const;

/** BFCL cases whose ground truth breaks its own schema (see bfcl-import.test.ts). */
export const BFCL_KNOWN_INVALID = new Set(['live_simple_106-63-0', 'live_simple_112-68-0']);

export interface BfclContractCase {
  file: string;
  bfclCase: BfclCase;
  /** The case's functions as a tenant's tool contracts (closed objects), by tool name. */
  contracts: Map<string, Contract>;
  golden: BfclGoldenCall;
}

/** Every BFCL case with a golden call, its functions registered as contracts (tenant = case id). */
export async function loadBfclContractCases(): Promise<BfclContractCase[]> {
  const out: BfclContractCase[] = [];
  for (const file of BFCL_FILES) {
    const cases = await loadBfclCases(join(BFCL_DIR, `${file}.json`));
    const answers = new Map(
      (await loadBfclAnswers(join(BFCL_DIR, `${file}.answers.json`))).map((a) => [a.id, a]),
    );
    for (const bfclCase of cases) {
      const answer = answers.get(bfclCase.id);
      const golden = answer && bfclGoldenCall(bfclCase, answer);
      if (!golden) continue;
      const tenantId = bfclCase.id
        .toLowerCase()
        .replace(/[^a-z0-9._-]/g, '-')
        .slice(0, 63);
      const contracts = contractMap(
        bfclToOpenAiTools(bfclCase, { closed: true }).map((t) =>
          toolContract(t.function.name, t.function.parameters, { tenantId }),
        ),
      );
      out.push({ file, bfclCase, contracts, golden });
    }
  }
  return out;
}

type Schema = { properties?: Record<string, { type?: string }>; required?: string[] };

export function bfclSchemaOf(c: BfclContractCase): Schema {
  const tool = findToolContract(c.contracts, c.golden.toolName);
  if (!tool) throw new Error(`${c.bfclCase.id}: no contract for ${c.golden.toolName}`);
  return tool.schema as Schema;
}

export const bfclTypeOf = (c: BfclContractCase, key: string) => bfclSchemaOf(c).properties?.[key]?.type;
const asCall = (name: string, args: unknown): ToolCallInput => ({
  name,
  argumentsText: JSON.stringify(args),
});
export const bfclCleanCall = (c: BfclContractCase) => asCall(c.golden.toolName, c.golden.arguments);

/** One drifted variant of a case's clean call, or undefined where the drift does not apply. */
export interface BfclVariant {
  call: ToolCallInput;
  args?: Record<string, unknown>;
  key: string;
}

/** The simulator's drift kinds, each planted in a BFCL case's clean call (top-level arguments). */
export const BFCL_DRIFTS: Record<string, (c: BfclContractCase) => BfclVariant | undefined> = {
  number_as_string(c) {
    const key = Object.keys(c.golden.arguments).find(
      (k) =>
        typeof c.golden.arguments[k] === 'number' && ['number', 'integer'].includes(bfclTypeOf(c, k) ?? ''),
    );
    if (key === undefined) return undefined;
    const args = { ...c.golden.arguments, [key]: String(c.golden.arguments[key]) };
    return { call: asCall(c.golden.toolName, args), args, key };
  },
  renamed_argument(c) {
    const declared = bfclSchemaOf(c).properties ?? {};
    const key = Object.keys(c.golden.arguments).find((k) => {
      const next = renamedKey(k);
      return next !== k && !(next in declared) && !(next in c.golden.arguments);
    });
    if (key === undefined) return undefined;
    const args: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(c.golden.arguments)) args[k === key ? renamedKey(k) : k] = v;
    return { call: asCall(c.golden.toolName, args), args, key };
  },
  missing_required(c) {
    const key = (bfclSchemaOf(c).required ?? []).find((k) => k in c.golden.arguments);
    if (key === undefined) return undefined;
    const { [key]: _, ...args } = c.golden.arguments;
    return { call: asCall(c.golden.toolName, args), args, key };
  },
  extra_argument(c) {
    if ('reasoning' in (bfclSchemaOf(c).properties ?? {})) return undefined;
    const args = { ...c.golden.arguments, reasoning: 'Calling the tool as the user asked.' };
    return { call: asCall(c.golden.toolName, args), args, key: 'reasoning' };
  },
  other_tool(c) {
    return { call: asCall('unregistered_tool', c.golden.arguments), key: '' };
  },
  json_in_markdown(c) {
    return {
      call: { name: c.golden.toolName, argumentsText: wrapInMarkdown(JSON.stringify(c.golden.arguments)) },
      key: '',
    };
  },
};
