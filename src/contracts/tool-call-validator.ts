import type { Contract } from '../registry/types.js';
import { type CompiledToolContract, compiledContract } from './compiled-contracts.js';
import { type FencedJson, findFencedJson, opensWithFence } from './fenced-json.js';
import { describeValue, isPlainObject } from './json-shape.js';
import { toViolations, type Violation } from './violations.js';

/**
 * Validation of one tool call against the tenant's contracts for the version that served it.
 * The hot path for a valid OpenAI call is one JSON.parse, one Map lookup for the contract, one
 * for the compiled validator and the validator itself; the violation mapping and the markdown
 * fence detection only run when something is wrong.
 */

/** A tool call as either wire format carries it. */
export interface ToolCallInput {
  name: string;
  /** OpenAI: `function.arguments`, a JSON string. */
  argumentsText?: string | undefined;
  /** Anthropic: `tool_use.input`, already an object. */
  input?: unknown;
  /** The call's id (OpenAI `tool_calls[].id`, Anthropic `tool_use.id`), for error reports. */
  id?: string | null | undefined;
}

/**
 * Why arguments could not be read as a JSON object:
 *   json_in_markdown  valid JSON inside a markdown fence (a format drift, not garbage)
 *   invalid_json      not JSON at all (cut off, prose, single quotes...)
 *   empty             an empty string, which `JSON.parse` in every executor rejects
 *   missing           neither arguments text nor input
 */
export type UnparsableReason = 'json_in_markdown' | 'invalid_json' | 'empty' | 'missing';

export interface ValidToolCall {
  valid: true;
  tool: string;
  callId: string | null;
  arguments: Record<string, unknown>;
  contract: Contract;
}

export interface UnknownToolCall {
  valid: false;
  kind: 'unknown_tool';
  tool: string;
  callId: string | null;
  /** The tool names the contracts allow, sorted. */
  knownTools: string[];
}

export interface UnparsableToolCall {
  valid: false;
  kind: 'unparsable_arguments';
  tool: string;
  callId: string | null;
  reason: UnparsableReason;
  detail: string;
  /** For `json_in_markdown`: the JSON inside the fence, for drift comparison and logs. */
  fenced?: unknown;
  contract: Contract;
}

export interface SchemaViolationCall {
  valid: false;
  kind: 'schema_violation';
  tool: string;
  callId: string | null;
  arguments: unknown;
  violations: Violation[];
  contract: Contract;
}

export type InvalidToolCall = UnknownToolCall | UnparsableToolCall | SchemaViolationCall;
export type ToolCallOutcome = ValidToolCall | InvalidToolCall;

export type ParsedArguments =
  | { ok: true; value: unknown }
  | { ok: false; reason: UnparsableReason; detail: string; fenced?: unknown };

/** Reads a call's arguments: the Anthropic object as it is, the OpenAI text through JSON.parse. */
export function parseToolArguments(call: ToolCallInput): ParsedArguments {
  if (call.argumentsText === undefined) {
    return call.input === undefined
      ? { ok: false, reason: 'missing', detail: 'the call carries no arguments' }
      : { ok: true, value: call.input };
  }
  const text = call.argumentsText;
  const fenced = opensWithFence(text) ? findFencedJson(text) : undefined;
  if (fenced) return fencedArguments(fenced);
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    if (text.trim() === '')
      return { ok: false, reason: 'empty', detail: 'the arguments are an empty string' };
    const inProse = findFencedJson(text);
    if (inProse) return fencedArguments(inProse);
    return {
      ok: false,
      reason: 'invalid_json',
      detail: `the arguments are not valid JSON: ${(e as Error).message}`,
    };
  }
}

function fencedArguments(fenced: FencedJson): ParsedArguments {
  return {
    ok: false,
    reason: 'json_in_markdown',
    detail: `the arguments are JSON wrapped in a markdown code fence${fenced.wholeText ? '' : ' with prose around it'}`,
    fenced: fenced.value,
  };
}

/** Checks already-parsed arguments against a compiled tool contract; [] when they conform. */
export function argumentViolations(compiled: CompiledToolContract, args: unknown): Violation[] {
  // Both wire formats require an object; a schema without `type: object` must not let an array through.
  if (!isPlainObject(args))
    return [{ path: '', keyword: 'type', expected: 'object', got: describeValue(args) }];
  if (compiled.validate(args)) return [];
  return toViolations(compiled.validate.errors, args, compiled.schema);
}

/** The compiled tool contract registered under `name`, if that name is a tool contract. */
export function findToolContract(
  contracts: ReadonlyMap<string, Contract>,
  name: string,
): CompiledToolContract | undefined {
  const contract = contracts.get(name);
  if (contract?.definition.kind !== 'tool') return undefined;
  return compiledContract(contract) as CompiledToolContract;
}

export function toolNames(contracts: ReadonlyMap<string, Contract>): string[] {
  const names: string[] = [];
  for (const c of contracts.values()) if (c.definition.kind === 'tool') names.push(c.name);
  return names.sort();
}

/**
 * Validates a tool call against the tenant's contracts for the serving version (a routing
 * snapshot's `stableContracts` or `candidateContracts`). A tenant that registered no tool
 * contracts has nothing to check: callers skip validation then, since every name is unknown.
 */
export function validateToolCall(
  contracts: ReadonlyMap<string, Contract>,
  call: ToolCallInput,
): ToolCallOutcome {
  const callId = call.id ?? null;
  const compiled = findToolContract(contracts, call.name);
  if (!compiled) {
    return { valid: false, kind: 'unknown_tool', tool: call.name, callId, knownTools: toolNames(contracts) };
  }
  const parsed = parseToolArguments(call);
  if (!parsed.ok) {
    return {
      valid: false,
      kind: 'unparsable_arguments',
      tool: call.name,
      callId,
      reason: parsed.reason,
      detail: parsed.detail,
      ...(parsed.fenced === undefined ? {} : { fenced: parsed.fenced }),
      contract: compiled.contract,
    };
  }
  const violations = argumentViolations(compiled, parsed.value);
  if (violations.length === 0) {
    return {
      valid: true,
      tool: call.name,
      callId,
      arguments: parsed.value as Record<string, unknown>,
      contract: compiled.contract,
    };
  }
  return {
    valid: false,
    kind: 'schema_violation',
    tool: call.name,
    callId,
    arguments: parsed.value,
    violations,
    contract: compiled.contract,
  };
}
