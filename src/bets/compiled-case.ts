import type { ValidateFunction } from 'ajv';
import { compileRegex, compileSchema } from '../contracts/schema-compiler.js';
import type { ErrorDetail } from '../shared/errors.js';
import { isSwitchyardError } from '../shared/errors.js';
import type { Assertion, CaseSpec, ToolDef } from './bets-types.js';

/**
 * A case with every schema and regex compiled, once per run (not per attempt): the request
 * path of a run then only validates. Compiling is also how a case is checked before it is
 * stored, so nothing that cannot run is ever accepted.
 */
export type CompiledAssertion =
  | { tag: 'tool_call'; a: Extract<Assertion, { kind: 'tool_call' }>; argumentsSchema?: ValidateFunction }
  | { tag: 'regex'; a: Extract<Assertion, { check: 'regex' }>; regex: RegExp }
  | { tag: 'json'; a: Extract<Assertion, { check: 'json' }>; schema?: ValidateFunction }
  | { tag: 'text'; a: Extract<Assertion, { check: 'equals' | 'contains' }> }
  | { tag: 'semantic'; a: Extract<Assertion, { kind: 'semantic' }> };

export interface CompiledCase {
  spec: CaseSpec;
  tools: Map<string, { def: ToolDef; validate: ValidateFunction }>;
  assertions: CompiledAssertion[];
}

/**
 * Validators by schema text. compileSchema has its own cache, keyed by a SHA-256 of the same
 * text; this one skips the hash, which was a measurable part of each run's start (every case's
 * schemas are looked up again per run). Bounded: schemas are few compared with cases.
 */
const validators = new Map<string, ValidateFunction>();
const MAX_VALIDATORS = 20_000;

function validator(schema: unknown, where: string): ValidateFunction {
  const key = JSON.stringify(schema) ?? '';
  let v = validators.get(key);
  if (!v) {
    v = compileSchema(schema, where);
    if (validators.size >= MAX_VALIDATORS) validators.clear();
    validators.set(key, v);
  }
  return v;
}

export class CaseCompileError extends Error {
  constructor(
    readonly caseId: string,
    readonly details: ErrorDetail[],
  ) {
    super(`case '${caseId}' is invalid: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`);
    this.name = 'CaseCompileError';
  }
}

/** Runs `fn`, turning a schema/regex compile error into details (collected, not thrown). */
function attempt<T>(details: ErrorDetail[], path: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (isSwitchyardError(e)) {
      details.push(...(e.details.length > 0 ? e.details : [{ path, message: e.message }]));
    } else {
      details.push({ path, message: (e as Error).message });
    }
    return undefined;
  }
}

function schemaProperties(schema: Record<string, unknown>): Set<string> | undefined {
  const props = schema.properties;
  if (typeof props !== 'object' || props === null) return undefined;
  // A schema that admits any extra argument has no closed list of names to check against.
  return schema.additionalProperties === false ? new Set(Object.keys(props)) : undefined;
}

function compileAssertion(
  a: Assertion,
  path: string,
  tools: CompiledCase['tools'],
  spec: CaseSpec,
  details: ErrorDetail[],
): CompiledAssertion | undefined {
  // Every offered name counts, even one whose schema failed to compile (reported on its own).
  const offered = spec.input.tools.map((t) => t.name);
  switch (a.kind) {
    case 'tool_call': {
      if (offered.length === 0) {
        details.push({ path, message: 'a tool_call assertion needs tools offered in the input' });
        return undefined;
      }
      const tool = a.tool === undefined ? undefined : tools.get(a.tool);
      if (a.tool !== undefined && !offered.includes(a.tool)) {
        details.push({
          path: `${path}/tool`,
          message: `unknown tool '${a.tool}': the case offers ${offered.map((t) => `'${t}'`).join(', ')}`,
        });
        return undefined;
      }
      const names = tool && schemaProperties(tool.def.parameters);
      for (const arg of Object.keys(a.acceptedValues ?? {})) {
        if (names && !names.has(arg)) {
          details.push({
            path: `${path}/acceptedValues/${arg}`,
            message: `'${a.tool}' has no argument '${arg}'`,
          });
        }
      }
      const argumentsSchema =
        a.argumentsSchema &&
        attempt(details, `${path}/argumentsSchema`, () =>
          validator(a.argumentsSchema, `${path}/argumentsSchema`),
        );
      return argumentsSchema ? { tag: 'tool_call', a, argumentsSchema } : { tag: 'tool_call', a };
    }
    case 'format':
      if (a.check === 'regex') {
        const regex = attempt(details, `${path}/pattern`, () =>
          compileRegex(a.pattern, a.flags, `${path}/pattern`),
        );
        return regex ? { tag: 'regex', a, regex } : undefined;
      }
      if (a.check === 'json') {
        const schema =
          a.schema && attempt(details, `${path}/schema`, () => validator(a.schema, `${path}/schema`));
        return schema ? { tag: 'json', a, schema } : { tag: 'json', a };
      }
      return { tag: 'text', a };
    case 'semantic':
      if (a.golden === undefined && a.rubric === undefined && !spec.golden?.text && !spec.golden?.toolCall) {
        details.push({
          path,
          message: 'a semantic assertion needs a golden answer (here or in the case) or a rubric',
        });
        return undefined;
      }
      return { tag: 'semantic', a };
  }
}

/** Compiles a case, or throws CaseCompileError listing every problem with its path under `where`. */
export function compileCase(spec: CaseSpec, where = ''): CompiledCase {
  const details: ErrorDetail[] = [];
  const tools: CompiledCase['tools'] = new Map();
  spec.input.tools.forEach((def, i) => {
    const path = `${where}/input/tools/${i}`;
    if (tools.has(def.name)) {
      details.push({ path: `${path}/name`, message: `tool '${def.name}' is offered twice` });
      return;
    }
    const validate = attempt(details, `${path}/parameters`, () =>
      validator(def.parameters, `${path}/parameters`),
    );
    if (validate) tools.set(def.name, { def, validate });
  });
  const offered = new Set(spec.input.tools.map((t) => t.name));
  const choice = spec.input.toolChoice;
  if (typeof choice === 'object' && !offered.has(choice.name)) {
    details.push({
      path: `${where}/input/toolChoice`,
      message: `tool_choice names '${choice.name}', which is not offered`,
    });
  }
  const last = spec.input.messages[spec.input.messages.length - 1];
  if (last?.role === 'assistant') {
    details.push({
      path: `${where}/input/messages`,
      message: 'the last message must be a user turn or a tool result: the case asks for the next answer',
    });
  }
  const goldenTool = spec.golden?.toolCall?.name;
  if (goldenTool !== undefined && !offered.has(goldenTool)) {
    details.push({
      path: `${where}/golden/toolCall/name`,
      message: `the golden answer calls '${goldenTool}', which is not offered`,
    });
  }
  const assertions: CompiledAssertion[] = [];
  spec.assertions.forEach((a, i) => {
    const c = compileAssertion(a, `${where}/assertions/${i}`, tools, spec, details);
    if (c) assertions.push(c);
  });
  if (details.length > 0) throw new CaseCompileError(spec.id, details);
  return { spec, tools, assertions };
}
