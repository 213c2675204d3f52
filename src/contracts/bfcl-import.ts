/**
 * Import of Berkeley Function Calling Leaderboard (BFCL v4) cases: real tool schemas and real user
 * requests, used as tenants' tool contracts and golden cases in tests and in the demo fleet.
 *
 * BFCL files are JSON Lines. Their parameter schemas are almost JSON Schema, with these
 * differences, all handled by `bfclToJsonSchema`:
 * - types `dict` (object), `float` (number), `tuple` (array), `any` (no constraint);
 * - an `optional` annotation, either `true`/`"True"` on a property or a list of names on the
 *   object; it is not a JSON Schema keyword, so it is dropped and the named properties are taken
 *   out of `required`;
 * - an `enum` on an array type listing item values, which moves to `items`;
 * - function names with dots (`math.factorial`), which OpenAI and Anthropic tool names do not
 *   allow (`^[a-zA-Z0-9_-]{1,64}$`); see `toToolName` and `bfclToolNameMap`.
 */
import { readFile } from 'node:fs/promises';

export interface BfclMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A BFCL parameter schema node, as found in the files (loosely typed: it is foreign data). */
export interface BfclParam {
  type?: string;
  description?: string;
  properties?: Record<string, BfclParam>;
  items?: BfclParam;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  optional?: unknown;
  [keyword: string]: unknown;
}

export interface BfclFunction {
  name: string;
  description: string;
  parameters: BfclParam;
}

export interface BfclCase {
  id: string;
  /** Turns, each a list of messages (system and user). */
  question: BfclMessage[][];
  function: BfclFunction[];
}

/** One expected call: per parameter, the accepted values (`""` = the parameter may be left out). */
export interface BfclExpectedCall {
  name: string;
  accepted: Record<string, unknown[]>;
}

export interface BfclAnswer {
  id: string;
  calls: BfclExpectedCall[];
}

/** A JSON Schema object as produced by the conversion. */
export type JsonSchemaObject = { [keyword: string]: unknown };

export interface OpenAiTool {
  type: 'function';
  function: { name: string; description: string; parameters: JsonSchemaObject };
}

export interface AnthropicTool {
  name: string;
  description: string;
  input_schema: JsonSchemaObject;
}

const TYPE_MAP: Record<string, string | undefined> = {
  dict: 'object',
  object: 'object',
  float: 'number',
  number: 'number',
  tuple: 'array',
  array: 'array',
  integer: 'integer',
  string: 'string',
  boolean: 'boolean',
  null: 'null',
  any: undefined,
};

/** JSON Schema keywords copied as they are; anything else in a BFCL node is an annotation we drop. */
const PASS_THROUGH = new Set([
  'description',
  'enum',
  'const',
  'default',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'title',
  'examples',
]);

function isOptionalFlag(value: unknown): boolean {
  return value === true || (typeof value === 'string' && value.toLowerCase() === 'true');
}

export interface BfclSchemaOptions {
  /** Add `additionalProperties: false` to objects with declared properties (a strict contract). */
  closed?: boolean;
}

/**
 * Converts a BFCL parameter schema to standard JSON Schema (draft-07 / 2020-12 compatible).
 * Throws on a type it does not know, naming the path, rather than guessing.
 */
export function bfclToJsonSchema(
  params: BfclParam,
  options: BfclSchemaOptions = {},
  path = 'parameters',
): JsonSchemaObject {
  const out: JsonSchemaObject = {};
  if (params.type !== undefined) {
    if (!(params.type in TYPE_MAP)) throw new Error(`${path}: unsupported BFCL type "${params.type}"`);
    const type = TYPE_MAP[params.type];
    if (type !== undefined) out.type = type;
  }
  for (const [key, value] of Object.entries(params)) {
    if (PASS_THROUGH.has(key)) out[key] = value;
  }
  if (params.properties) {
    const properties: Record<string, JsonSchemaObject> = {};
    const optional = new Set<string>(
      Array.isArray(params.optional) ? params.optional.filter((n) => typeof n === 'string') : [],
    );
    for (const [name, child] of Object.entries(params.properties)) {
      properties[name] = bfclToJsonSchema(child, options, `${path}.${name}`);
      if (isOptionalFlag(child.optional)) optional.add(name);
    }
    out.properties = properties;
    const required = (params.required ?? []).filter((name) => !optional.has(name));
    if (required.length > 0) out.required = required;
    if (options.closed) out.additionalProperties = false;
  } else if (params.required && params.required.length > 0) {
    out.required = params.required;
  }
  if (params.items) out.items = bfclToJsonSchema(params.items, options, `${path}[]`);
  // BFCL puts an enum of item values on the array itself (live_simple_71: metrics); in JSON
  // Schema that would constrain the whole array, so it moves to the items.
  if (out.type === 'array' && Array.isArray(out.enum) && !out.enum.some(Array.isArray)) {
    out.items = { ...(out.items as JsonSchemaObject | undefined), enum: out.enum };
    delete out.enum;
  }
  return out;
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * The provider-safe tool name for a BFCL function name: every character outside `[a-zA-Z0-9_-]`
 * (in BFCL only `.`) becomes `_`, cut to 64 characters. `math.factorial` -> `math_factorial`.
 * This alone is not reversible (`a.b` and `a_b` meet), so reverse through `bfclToolNameMap`.
 */
export function toToolName(bfclName: string): string {
  if (TOOL_NAME.test(bfclName)) return bfclName;
  const safe = bfclName.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
  return safe.length > 0 ? safe : 'tool';
}

/** Both directions between BFCL function names and the tool names offered to a model. */
export interface ToolNameMap {
  toTool(bfclName: string): string | undefined;
  fromTool(toolName: string): string | undefined;
}

/**
 * The reversible mapping for one set of functions (a case): `toToolName`, with `_2`, `_3`...
 * appended when two names would meet, so every tool name maps back to exactly one function.
 */
export function bfclToolNameMap(bfclNames: readonly string[]): ToolNameMap {
  const forward = new Map<string, string>();
  const backward = new Map<string, string>();
  for (const name of bfclNames) {
    if (forward.has(name)) continue;
    const base = toToolName(name);
    let candidate = base;
    for (let n = 2; backward.has(candidate); n++) candidate = `${base.slice(0, 60)}_${n}`;
    forward.set(name, candidate);
    backward.set(candidate, name);
  }
  return { toTool: (n) => forward.get(n), fromTool: (t) => backward.get(t) };
}

function parseJsonLines<T>(text: string, file: string, check: (value: unknown) => value is T): T[] {
  const out: T[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]?.trim();
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new Error(`${file}:${i + 1}: not JSON (${(e as Error).message})`);
    }
    if (!check(value)) throw new Error(`${file}:${i + 1}: not a BFCL record of the expected shape`);
    out.push(value);
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isBfclCase(value: unknown): value is BfclCase {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    Array.isArray(value.question) &&
    value.question.every(
      (turn) =>
        Array.isArray(turn) && turn.every((m) => isRecord(m) && typeof m.content === 'string' && !!m.role),
    ) &&
    Array.isArray(value.function) &&
    value.function.every((f) => isRecord(f) && typeof f.name === 'string' && isRecord(f.parameters))
  );
}

interface RawAnswer {
  id: string;
  ground_truth: Array<Record<string, Record<string, unknown[]>>>;
}

function isRawAnswer(value: unknown): value is RawAnswer {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    Array.isArray(value.ground_truth) &&
    value.ground_truth.every(
      (call) =>
        isRecord(call) &&
        Object.values(call).every((args) => isRecord(args) && Object.values(args).every(Array.isArray)),
    )
  );
}

/** Parses the text of a BFCL case file (JSON Lines). `file` only labels error messages. */
export function parseBfclCases(text: string, file = 'bfcl'): BfclCase[] {
  return parseJsonLines(text, file, isBfclCase);
}

export function parseBfclAnswers(text: string, file = 'bfcl answers'): BfclAnswer[] {
  return parseJsonLines(text, file, isRawAnswer).map((raw) => ({
    id: raw.id,
    calls: raw.ground_truth.flatMap((call) =>
      Object.entries(call).map(([name, accepted]) => ({ name, accepted })),
    ),
  }));
}

export async function loadBfclCases(file: string): Promise<BfclCase[]> {
  return parseBfclCases(await readFile(file, 'utf8'), file);
}

export async function loadBfclAnswers(file: string): Promise<BfclAnswer[]> {
  return parseBfclAnswers(await readFile(file, 'utf8'), file);
}

/** The answers file that sits beside a case file: `X.json` -> `X.answers.json`. */
export function bfclAnswersFileFor(casesFile: string): string {
  return casesFile.replace(/\.json$/, '.answers.json');
}

/** The case's functions as OpenAI `tools` (names made provider-safe, schemas converted). */
export function bfclToOpenAiTools(bfclCase: BfclCase, options: BfclSchemaOptions = {}): OpenAiTool[] {
  const names = bfclToolNameMap(bfclCase.function.map((f) => f.name));
  return bfclCase.function.map((f) => ({
    type: 'function',
    function: {
      name: names.toTool(f.name) ?? toToolName(f.name),
      description: f.description,
      parameters: bfclToJsonSchema(f.parameters, options, f.name),
    },
  }));
}

/** The case's functions as Anthropic `tools`. */
export function bfclToAnthropicTools(bfclCase: BfclCase, options: BfclSchemaOptions = {}): AnthropicTool[] {
  return bfclToOpenAiTools(bfclCase, options).map((t) => ({
    name: t.function.name,
    description: t.function.description,
    input_schema: t.function.parameters,
  }));
}

/** All messages of the case's turns, in order (BFCL single-turn cases: system?, user). */
export function bfclMessages(bfclCase: BfclCase): BfclMessage[] {
  return bfclCase.question.flat();
}

/** The text of the last user message: what a golden case is recognised by. */
export function bfclLastUserText(bfclCase: BfclCase): string | undefined {
  const messages = bfclMessages(bfclCase);
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role === 'user') return m.content;
  }
  return undefined;
}

/** The marker for "no value": distinguishes "leave the parameter out" from a legitimate value. */
const OMIT = Symbol('omit');

/** A cheap check of a value against one BFCL parameter's own type and enum (not its children). */
function fitsParam(value: unknown, param: BfclParam | undefined): boolean {
  if (!param) return true;
  if (Array.isArray(param.enum) && !param.enum.some((e) => e === value)) return false;
  switch (param.type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'float':
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'dict':
    case 'object':
      return isRecord(value);
    case 'array':
    case 'tuple':
      return Array.isArray(value);
    default:
      return true;
  }
}

/**
 * The first non-empty accepted value. Where the parameter may be left out (`""` accepted), the
 * other accepted values are often just its Python default, which need not fit the declared
 * schema (`null` for a string, `"N/A"` outside the enum); such values are skipped, and the
 * parameter is left out when nothing else fits. Where `""` is not accepted the first value is
 * taken as it is, so a ground truth that breaks its own schema stays visible.
 */
function firstAccepted(accepted: readonly unknown[], schema: BfclParam | undefined): unknown {
  const omittable = accepted.includes('');
  const candidates = accepted.filter((v) => v !== '');
  const chosen = omittable ? candidates.find((v) => fitsParam(v, schema)) : candidates[0];
  return chosen === undefined && (omittable || candidates.length === 0)
    ? OMIT
    : resolveAccepted(chosen, schema);
}

/**
 * BFCL nests accepted-value lists inside dict values: a dict is `{key: [accepted...]}` and an
 * array of dicts holds such dicts. Picks the first accepted value at every level.
 */
function resolveAccepted(value: unknown, schema: BfclParam | undefined): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => resolveAccepted(item, schema?.items));
  }
  if (isRecord(value) && Object.values(value).every(Array.isArray)) {
    const out: Record<string, unknown> = {};
    for (const [key, accepted] of Object.entries(value as Record<string, unknown[]>)) {
      const picked = firstAccepted(accepted, schema?.properties?.[key]);
      if (picked !== OMIT) out[key] = picked;
    }
    return out;
  }
  return value;
}

/**
 * The expected arguments of a call: the first non-empty accepted value of each parameter (see
 * `firstAccepted` for the one refinement), and parameters whose only accepted value is `""` left out.
 */
export function bfclExpectedArguments(call: BfclExpectedCall, fn?: BfclFunction): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [param, accepted] of Object.entries(call.accepted)) {
    const picked = firstAccepted(accepted, fn?.parameters.properties?.[param]);
    if (picked !== OMIT) out[param] = picked;
  }
  return out;
}

export interface BfclGoldenCall {
  caseId: string;
  /** The BFCL function name (may contain dots). */
  name: string;
  /** The provider-safe tool name the case's tools use. */
  toolName: string;
  arguments: Record<string, unknown>;
}

/** The first expected call of a case, resolved to concrete arguments. */
export function bfclGoldenCall(bfclCase: BfclCase, answer: BfclAnswer): BfclGoldenCall | undefined {
  const call = answer.calls[0];
  if (!call) return undefined;
  const fn = bfclCase.function.find((f) => f.name === call.name);
  const names = bfclToolNameMap(bfclCase.function.map((f) => f.name));
  return {
    caseId: bfclCase.id,
    name: call.name,
    toolName: names.toTool(call.name) ?? toToolName(call.name),
    arguments: bfclExpectedArguments(call, fn),
  };
}
