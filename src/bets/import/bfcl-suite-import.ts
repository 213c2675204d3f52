import {
  type BfclCase,
  bfclGoldenCall,
  bfclMessages,
  bfclToOpenAiTools,
  bfclToolNameMap,
  parseBfclAnswers,
  parseBfclCases,
} from '../../contracts/bfcl-import.js';
import { invalidInput } from '../../shared/errors.js';
import type { CaseSpec, Message } from '../bets-types.js';

export interface ImportOutcome {
  cases: CaseSpec[];
  /** Cases that could not be converted, each with why (in addition to later validation). */
  rejected: { index: number; caseId: string | null; message: string }[];
  warnings: string[];
}

export interface BfclImportOptions {
  /** Close tool schemas (`additionalProperties: false`): stricter contracts than BFCL's own. */
  closedSchemas?: boolean;
}

function toCase(
  c: BfclCase,
  answer: { calls: { name: string; accepted: Record<string, unknown[]> }[] },
  opts: BfclImportOptions,
): CaseSpec {
  const call = answer.calls[0];
  if (!call) throw new Error('the answer has no expected call');
  if (answer.calls.length > 1)
    throw new Error(
      `the answer expects ${answer.calls.length} parallel calls; only single-call cases are supported`,
    );
  if (!c.function.some((f) => f.name === call.name))
    throw new Error(`the expected function '${call.name}' is not among the case's functions`);
  const empty = Object.entries(call.accepted)
    .filter(([, values]) => values.length === 0)
    .map(([name]) => `'${name}'`);
  if (empty.length > 0) {
    throw new Error(
      `the ground truth accepts no value for ${empty.join(', ')}: it contradicts the function's schema`,
    );
  }
  const tools = bfclToOpenAiTools(c, { closed: opts.closedSchemas === true }).map((t) => ({
    name: t.function.name,
    description: t.function.description,
    parameters: t.function.parameters,
  }));
  const system: string[] = [];
  const messages: Message[] = [];
  for (const m of bfclMessages(c)) {
    if (m.role === 'system') system.push(m.content);
    else if (m.role === 'user') messages.push({ role: 'user', content: m.content });
    else messages.push({ role: 'assistant', content: m.content });
  }
  const toolName = bfclToolNameMap(c.function.map((f) => f.name)).toTool(call.name) ?? call.name;
  const golden = bfclGoldenCall(c, { id: c.id, calls: [call] });
  return {
    id: c.id,
    input: { ...(system.length > 0 ? { system: system.join('\n') } : {}), messages, tools },
    assertions: [{ kind: 'tool_call', tool: toolName, acceptedValues: call.accepted }],
    ...(golden ? { golden: { toolCall: { name: golden.toolName, arguments: golden.arguments } } } : {}),
  };
}

/**
 * BFCL cases (JSON Lines text) and their answers as BETS cases: the functions become offered
 * tools (converted schemas, provider-safe names), the first expected call a tool-call assertion
 * with BFCL's accepted values per argument. Reuses contracts/bfcl-import.ts for all of BFCL's
 * quirks; a case that cannot be converted is listed with the reason, the others still convert.
 */
export function casesFromBfcl(
  casesText: string,
  answersText: string,
  opts: BfclImportOptions = {},
): ImportOutcome {
  let cases: BfclCase[];
  let answers: ReturnType<typeof parseBfclAnswers>;
  try {
    cases = parseBfclCases(casesText, 'cases');
    answers = parseBfclAnswers(answersText, 'answers');
  } catch (e) {
    throw invalidInput(`not a BFCL file: ${(e as Error).message}`, [
      { path: '/body', message: (e as Error).message },
    ]);
  }
  const byId = new Map(answers.map((a) => [a.id, a]));
  const out: ImportOutcome = { cases: [], rejected: [], warnings: [] };
  cases.forEach((c, index) => {
    const answer = byId.get(c.id);
    if (!answer) {
      out.rejected.push({ index, caseId: c.id, message: 'no answer in the answers file' });
      return;
    }
    try {
      out.cases.push(toCase(c, answer, opts));
    } catch (e) {
      out.rejected.push({ index, caseId: c.id, message: (e as Error).message });
    }
  });
  return out;
}
