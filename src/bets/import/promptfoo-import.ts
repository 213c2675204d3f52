import { parse as parseYaml } from 'yaml';
import { invalidInput } from '../../shared/errors.js';
import type { Assertion, CaseSpec, GoldenAnswer, Message, ToolDef } from '../bets-types.js';
import type { ImportOutcome } from './bfcl-suite-import.js';

/**
 * promptfoo test files (YAML or JSON): a list of tests, or `{tests, defaultTest}`, each with
 * `vars` and `assert`. Vars become the input; assertion types that mean something for a model
 * upgrade gate are mapped, every other type is refused with a per-case error naming it.
 *
 * Which var is the user's message: `promptTemplate` when given (`{{var}}` placeholders, as in
 * the promptfoo prompt the tests were written for), else `vars.messages` (a chat), else the
 * first of prompt/question/input/query/message/user, else the only string var.
 */
export interface PromptfooImportOptions {
  promptTemplate?: string;
  /** Tools the prompt offered (OpenAI or Anthropic shape), when vars do not carry them. */
  tools?: unknown[];
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const MESSAGE_VARS = ['prompt', 'question', 'input', 'query', 'message', 'user'];
export const SUPPORTED_ASSERTIONS = [
  'equals',
  'contains',
  'icontains',
  'starts-with',
  'regex',
  'is-json',
  'contains-json',
  'is-valid-openai-tools-call',
  'llm-rubric',
  'similar',
] as const;
const NEGATABLE = new Set(['equals', 'contains', 'icontains', 'starts-with', 'regex']);
/** promptfoo's llm-rubric passes on the grader's say-so; a score of 0.5 is its midpoint. */
const DEFAULT_RUBRIC_PASS = 0.5;
const DEFAULT_SIMILAR_PASS = 0.75;

function render(template: string, vars: Json): string {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (whole, path: string) => {
    let v: unknown = vars;
    for (const part of path.split('.')) v = isRecord(v) ? v[part] : undefined;
    if (v === undefined) return whole;
    return typeof v === 'string' ? v : JSON.stringify(v);
  });
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** OpenAI `{type:"function",function}` or Anthropic `{name,input_schema}` tools as ToolDefs. */
export function toolDefs(tools: unknown): ToolDef[] {
  if (!Array.isArray(tools)) throw new Error('tools must be a list');
  return tools.map((t, i) => {
    const fn = isRecord(t) && t.type === 'function' && isRecord(t.function) ? t.function : t;
    if (!isRecord(fn) || typeof fn.name !== 'string') throw new Error(`tools[${i}] has no name`);
    const parameters = fn.parameters ?? fn.input_schema ?? { type: 'object', properties: {} };
    if (!isRecord(parameters)) throw new Error(`tools[${i}] has no object schema`);
    return {
      name: fn.name,
      ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
      parameters,
    };
  });
}

function inputOf(vars: Json, opts: PromptfooImportOptions): Pick<CaseSpec['input'], 'system' | 'messages'> {
  const system = typeof vars.system === 'string' ? vars.system : undefined;
  const withSystem = (messages: Message[]) => ({ ...(system !== undefined ? { system } : {}), messages });
  if (opts.promptTemplate !== undefined)
    return withSystem([{ role: 'user', content: render(opts.promptTemplate, vars) }]);
  if (Array.isArray(vars.messages)) {
    const messages: Message[] = [];
    const systems: string[] = system !== undefined ? [system] : [];
    for (const [i, m] of vars.messages.entries()) {
      if (!isRecord(m) || typeof m.content !== 'string')
        throw new Error(`vars.messages[${i}] needs a string content`);
      if (m.role === 'system') systems.push(m.content);
      else if (m.role === 'user' || m.role === 'assistant')
        messages.push({ role: m.role, content: m.content });
      else throw new Error(`vars.messages[${i}]: role '${String(m.role)}' is not user, assistant or system`);
    }
    return { ...(systems.length > 0 ? { system: systems.join('\n') } : {}), messages };
  }
  const named = MESSAGE_VARS.find((k) => typeof vars[k] === 'string');
  if (named) return withSystem([{ role: 'user', content: vars[named] as string }]);
  const strings = Object.entries(vars).filter(([k, v]) => k !== 'system' && typeof v === 'string');
  if (strings.length === 1) return withSystem([{ role: 'user', content: strings[0]?.[1] as string }]);
  throw new Error(
    `cannot tell which var is the user's message (vars: ${Object.keys(vars).join(', ') || 'none'}): name it one of ${MESSAGE_VARS.join('/')}, or give a prompt template`,
  );
}

function mapAssertion(raw: unknown, vars: Json, golden: GoldenAnswer): Assertion {
  if (!isRecord(raw) || typeof raw.type !== 'string') throw new Error('an assertion needs a type');
  const negated = raw.type.startsWith('not-');
  const type = negated ? raw.type.slice(4) : raw.type;
  const value = typeof raw.value === 'string' ? render(raw.value, vars) : raw.value;
  const threshold = typeof raw.threshold === 'number' ? raw.threshold : undefined;
  if (negated && !NEGATABLE.has(type))
    throw new Error(
      `assert type '${raw.type}' is not supported (negation works for ${[...NEGATABLE].join(', ')})`,
    );
  const negate = negated ? { negate: true } : {};
  const needString = () => {
    if (typeof value !== 'string') throw new Error(`assert type '${raw.type}' needs a string value`);
    return value;
  };
  switch (type) {
    case 'equals': {
      const v = needString();
      if (!negated) golden.text = v;
      return { kind: 'format', check: 'equals', value: v, ...negate };
    }
    case 'contains':
    case 'icontains':
      return {
        kind: 'format',
        check: 'contains',
        value: needString(),
        ...(type === 'icontains' ? { ignoreCase: true } : {}),
        ...negate,
      };
    case 'starts-with':
      return { kind: 'format', check: 'regex', pattern: `^\\s*${escapeRegex(needString())}`, ...negate };
    case 'regex':
      return { kind: 'format', check: 'regex', pattern: needString(), ...negate };
    case 'is-json':
    case 'contains-json':
      return {
        kind: 'format',
        check: 'json',
        extract: type === 'is-json' ? 'whole' : 'anywhere',
        ...(isRecord(value) ? { schema: value } : {}),
      };
    case 'is-valid-openai-tools-call':
      return { kind: 'tool_call' };
    case 'llm-rubric':
      return { kind: 'semantic', rubric: needString(), passScore: threshold ?? DEFAULT_RUBRIC_PASS };
    case 'similar': {
      const v = needString();
      golden.text ??= v;
      return { kind: 'semantic', golden: v, passScore: threshold ?? DEFAULT_SIMILAR_PASS };
    }
    default:
      throw new Error(
        `assert type '${raw.type}' has no meaning for a model upgrade gate here (supported: ${SUPPORTED_ASSERTIONS.join(', ')}, and not- forms of text checks)`,
      );
  }
}

function caseId(test: Json, index: number, taken: Set<string>): string {
  const meta = isRecord(test.metadata) ? test.metadata : {};
  const base =
    typeof meta.id === 'string'
      ? meta.id
      : typeof test.description === 'string'
        ? test.description
            .toLowerCase()
            .replace(/[^a-z0-9]+/g, '-')
            .replace(/^-+|-+$/g, '')
            .slice(0, 60)
        : '';
  let id = /^[A-Za-z0-9]/.test(base) ? base : `pf-${index + 1}`;
  for (let n = 2; taken.has(id); n++) id = `${base || 'pf'}-${n}`;
  taken.add(id);
  return id;
}

/** Converts promptfoo tests (YAML/JSON text, or the parsed value) into BETS cases. */
export function casesFromPromptfoo(
  source: string | unknown,
  opts: PromptfooImportOptions = {},
): ImportOutcome {
  let doc: unknown = source;
  if (typeof source === 'string') {
    try {
      doc = parseYaml(source);
    } catch (e) {
      throw invalidInput(`not a YAML or JSON promptfoo test file: ${(e as Error).message}`, [
        { path: '/body/tests', message: (e as Error).message },
      ]);
    }
  }
  const tests = Array.isArray(doc) ? doc : isRecord(doc) && Array.isArray(doc.tests) ? doc.tests : undefined;
  if (!tests) {
    throw invalidInput('a promptfoo test file is a list of tests, or an object with a `tests` list', [
      { path: '/body/tests', message: 'no list of tests' },
    ]);
  }
  const defaults = isRecord(doc) && isRecord(doc.defaultTest) ? doc.defaultTest : {};
  const out: ImportOutcome = { cases: [], rejected: [], warnings: [] };
  const taken = new Set<string>();
  tests.forEach((test: unknown, index) => {
    if (!isRecord(test)) {
      out.rejected.push({ index, caseId: null, message: 'a test must be an object with vars and assert' });
      return;
    }
    const id = caseId(test, index, taken);
    try {
      const vars = {
        ...(isRecord(defaults.vars) ? defaults.vars : {}),
        ...(isRecord(test.vars) ? test.vars : {}),
      };
      const asserts = [
        ...(Array.isArray(defaults.assert) ? defaults.assert : []),
        ...(Array.isArray(test.assert) ? test.assert : []),
      ];
      if (asserts.length === 0) throw new Error('the test has no assertions');
      const golden: GoldenAnswer = {};
      const assertions = asserts.map((a, i) => {
        if (isRecord(a) && (a.weight !== undefined || a.metric !== undefined)) {
          out.warnings.push(
            `case '${id}' assert ${i}: weight and metric are ignored (BETS scores each assertion kind separately)`,
          );
        }
        return mapAssertion(a, vars, golden);
      });
      const toolSource = vars.tools ?? opts.tools;
      const tools = toolSource === undefined ? [] : toolDefs(toolSource);
      out.cases.push({
        id,
        ...(typeof test.description === 'string' ? { description: test.description.slice(0, 2000) } : {}),
        input: { ...inputOf(vars, opts), tools },
        assertions,
        ...(Object.keys(golden).length > 0 ? { golden } : {}),
      });
    } catch (e) {
      out.rejected.push({ index, caseId: id, message: (e as Error).message });
    }
  });
  return out;
}
