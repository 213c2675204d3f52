import type { ErrorObject } from 'ajv';
import type { CompiledAssertion, CompiledCase } from './compiled-case.js';
import { type Judge, JudgeAnswerError } from './judge.js';
import { addCost } from './pricing.js';
import { CallFailed } from './provider-caller.js';
import type { Answer, AssertionOutcome, AttemptStatus } from './run-types.js';
import { acceptedValueProblems, canonicalJson, extractJson, similarity } from './text-checks.js';

/**
 * Checks one answer against a case's assertions. Tool calls are checked at the schema level
 * (name, argument schema, accepted values), formats against regex or JSON Schema, and meaning by
 * the pinned judge or, without one, by word similarity. Never exact text unless asked for.
 */

export interface EvalUsage {
  inputTokens: number;
  outputTokens: number;
  cost: number | null;
  providerCalls: number;
}

export interface Evaluation {
  outcomes: AssertionOutcome[];
  status: AttemptStatus;
  /** Judge calls made for this answer. */
  usage: EvalUsage;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function ajvText(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '(arguments)'} ${e.message ?? 'is invalid'}`)
    .join('; ');
}

function clip(text: string, max = 160): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

function describeAnswer(answer: Answer): string {
  const calls = answer.toolCalls.map((c) => `call to '${c.name}'`);
  if (answer.text) calls.push(`text ${JSON.stringify(clip(answer.text, 80))}`);
  return calls.length > 0 ? calls.join(' and ') : 'an empty answer';
}

type Compiled<T extends CompiledAssertion['tag']> = Extract<CompiledAssertion, { tag: T }>;

function checkToolCall(c: CompiledCase, x: Compiled<'tool_call'>, answer: Answer): [boolean, string] {
  const { a } = x;
  const call = a.tool === undefined ? answer.toolCalls[0] : answer.toolCalls.find((t) => t.name === a.tool);
  if (!call) {
    return [
      false,
      `expected a call to ${a.tool ? `'${a.tool}'` : 'an offered tool'}; got ${describeAnswer(answer)}`,
    ];
  }
  const tool = c.tools.get(call.name);
  if (!tool)
    return [false, `called unknown tool '${call.name}' (offered: ${[...c.tools.keys()].join(', ')})`];
  if (!isRecord(call.arguments)) {
    return [false, `the arguments of '${call.name}' are not a JSON object: ${clip(call.raw)}`];
  }
  if (!tool.validate(call.arguments)) {
    return [false, `arguments of '${call.name}' break its schema: ${ajvText(tool.validate.errors)}`];
  }
  if (x.argumentsSchema && !x.argumentsSchema(call.arguments)) {
    return [
      false,
      `arguments of '${call.name}' break the case's constraints: ${ajvText(x.argumentsSchema.errors)}`,
    ];
  }
  if (a.acceptedValues) {
    const problems = acceptedValueProblems(call.arguments, a.acceptedValues);
    if (problems.length > 0) return [false, problems.join('; ')];
  }
  return [true, `called '${call.name}' with valid arguments`];
}

function checkJson(x: Compiled<'json'>, text: string): [boolean, string] {
  let value: unknown;
  if (x.a.extract === 'whole') {
    try {
      value = JSON.parse(text);
    } catch {
      return [false, `the answer is not JSON: ${JSON.stringify(clip(text, 80))}`];
    }
  } else {
    const found = extractJson(text);
    if (!found.found) return [false, `the answer contains no JSON: ${JSON.stringify(clip(text, 80))}`];
    value = found.value;
  }
  if (x.schema && !x.schema(value)) return [false, `the JSON breaks the schema: ${ajvText(x.schema.errors)}`];
  return [true, 'the answer is valid JSON'];
}

function checkText(x: Compiled<'regex'> | Compiled<'text'>, text: string): [boolean, string] {
  let ok: boolean;
  let what: string;
  if (x.tag === 'regex') {
    ok = x.regex.test(text);
    what = `match /${x.a.pattern}/${x.a.flags ?? ''}`;
  } else {
    const fold = (s: string) => (x.a.ignoreCase ? s.trim().toLowerCase() : s.trim());
    ok = x.a.check === 'equals' ? fold(text) === fold(x.a.value) : fold(text).includes(fold(x.a.value));
    what = `${x.a.check === 'equals' ? 'equal' : 'contain'} ${JSON.stringify(clip(x.a.value, 80))}`;
  }
  const not = x.a.negate === true ? ' not' : '';
  if (x.a.negate === true) ok = !ok;
  return ok
    ? [true, `the answer does${not} ${what}`]
    : [false, `expected the answer to${not} ${what}; got ${JSON.stringify(clip(text, 80))}`];
}

function checkFormat(x: Compiled<'regex' | 'json' | 'text'>, text: string | null): [boolean, string] {
  if (text === null) return [false, 'the answer has no text to check the format of'];
  return x.tag === 'json' ? checkJson(x, text) : checkText(x, text);
}

/** What the answer says, for semantic comparison: its text, else its tool calls as JSON. */
export function answerForComparison(answer: Answer): string {
  if (answer.text !== null && answer.text.trim() !== '') return answer.text;
  return answer.toolCalls
    .map((c) => canonicalJson({ name: c.name, arguments: c.arguments ?? c.raw }))
    .join('\n');
}

function goldenText(c: CompiledCase, golden: string | undefined): string {
  if (golden !== undefined) return golden;
  const g = c.spec.golden;
  if (g?.text !== undefined) return g.text;
  return g?.toolCall ? canonicalJson(g.toolCall) : '';
}

export async function evaluate(
  c: CompiledCase,
  answer: Answer,
  judge: Judge | undefined,
  signal: AbortSignal,
): Promise<Evaluation> {
  const outcomes: AssertionOutcome[] = [];
  const usage: EvalUsage = { inputTokens: 0, outputTokens: 0, cost: null, providerCalls: 0 };
  for (let index = 0; index < c.assertions.length; index++) {
    const x = c.assertions[index] as CompiledAssertion;
    if (x.tag === 'tool_call') {
      const [ok, message] = checkToolCall(c, x, answer);
      outcomes.push({ index, kind: 'tool_call', ok, message });
    } else if (x.tag !== 'semantic') {
      const [ok, message] = checkFormat(x, answer.text);
      outcomes.push({ index, kind: 'format', ok, message });
    } else {
      const a = x.a;
      const golden = goldenText(c, a.golden);
      const candidate = answerForComparison(answer);
      if (!judge) {
        const score = Math.round(similarity(golden, candidate) * 1000) / 1000;
        const ok = score >= a.passScore;
        outcomes.push({
          index,
          kind: a.kind,
          ok,
          score,
          message: `similarity ${score} (pass at ${a.passScore})`,
        });
        continue;
      }
      try {
        const s = await judge.score({ golden, candidate, ...(a.rubric ? { rubric: a.rubric } : {}) }, signal);
        usage.inputTokens += s.inputTokens;
        usage.outputTokens += s.outputTokens;
        usage.cost = addCost(usage.cost, s.cost);
        usage.providerCalls += s.providerCalls;
        const ok = s.score >= a.passScore;
        outcomes.push({
          index,
          kind: a.kind,
          ok,
          score: s.score,
          message: `judge score ${s.score} (pass at ${a.passScore}): ${clip(s.reason, 300)}`,
        });
      } catch (e) {
        if (!(e instanceof JudgeAnswerError) && !(e instanceof CallFailed)) throw e;
        usage.providerCalls += e.providerCalls;
        outcomes.push({
          index,
          kind: a.kind,
          ok: false,
          error: true,
          message: e instanceof CallFailed ? `the judge could not be reached: ${e.message}` : e.message,
        });
      }
    }
  }
  const status: AttemptStatus = outcomes.some((o) => o.error)
    ? 'error'
    : outcomes.every((o) => o.ok)
      ? 'pass'
      : 'fail';
  return { outcomes, status, usage };
}
