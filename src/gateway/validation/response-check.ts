import { type OutputFormatOutcome, validateOutputFormat } from '../../contracts/output-format-validator.js';
import { type InvalidToolCall, validateToolCall } from '../../contracts/tool-call-validator.js';
import type { Contract } from '../../registry/types.js';
import type { ParsedToolCall } from '../wire/wire-format.js';

/**
 * What the tenant's contracts (for the version that answered) say about an answer. The contract
 * maps come from the routing snapshot, which is replaced whole and never mutated, so what a map
 * holds (tool contracts? format contracts?) is worked out once per map and kept in a WeakMap.
 */

export interface ContractSet {
  /** Whether any tool contract exists: without one there is nothing to check tool calls against. */
  readonly tools: boolean;
  readonly formats: readonly Contract[];
}

const NONE: ContractSet = { tools: false, formats: [] };
const sets = new WeakMap<ReadonlyMap<string, Contract>, ContractSet>();

export function contractSetOf(contracts: ReadonlyMap<string, Contract>): ContractSet {
  if (contracts.size === 0) return NONE;
  let set = sets.get(contracts);
  if (!set) {
    const all = [...contracts.values()];
    set = {
      tools: all.some((c) => c.definition.kind === 'tool'),
      formats: all.filter((c) => c.definition.kind !== 'tool'),
    };
    sets.set(contracts, set);
  }
  return set;
}

export interface InvalidCall {
  /** Position among the answer's tool calls. */
  index: number;
  outcome: InvalidToolCall;
}

export interface ToolCallsCheck {
  checked: number;
  invalid: InvalidCall[];
}

const NOTHING_CHECKED: ToolCallsCheck = { checked: 0, invalid: [] };

/** Checks `calls[from..]` (a stream checks each group of calls as it completes). */
export function checkToolCalls(
  contracts: ReadonlyMap<string, Contract>,
  calls: readonly ParsedToolCall[],
  from = 0,
): ToolCallsCheck {
  if (from >= calls.length || !contractSetOf(contracts).tools) return NOTHING_CHECKED;
  const invalid: InvalidCall[] = [];
  for (let i = from; i < calls.length; i++) {
    const call = calls[i] as ParsedToolCall;
    const outcome = validateToolCall(contracts, {
      name: call.name,
      argumentsText: call.arguments,
      id: call.id,
    });
    if (!outcome.valid) invalid.push({ index: i, outcome });
  }
  return { checked: calls.length - from, invalid };
}

/** Whether a text answer meets one of the tenant's format contracts; null when none applies. */
export function checkFormat(
  contracts: ReadonlyMap<string, Contract>,
  text: string | null,
): OutputFormatOutcome | null {
  const { formats } = contractSetOf(contracts);
  if (formats.length === 0 || text === null) return null;
  return validateOutputFormat(formats, text);
}

/** The telemetry label of an invalid call: the first violation's keyword, else what kind of failure. */
export function invalidKindOf(outcome: InvalidToolCall): string {
  switch (outcome.kind) {
    case 'unknown_tool':
      return 'unknown_tool';
    case 'unparsable_arguments':
      return outcome.reason;
    case 'schema_violation':
      return outcome.violations[0]?.keyword ?? 'schema_violation';
  }
}
