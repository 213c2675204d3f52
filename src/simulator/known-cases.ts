/**
 * Known cases are golden answers the simulator plays back: when the last user message matches a
 * case, the model calls the expected tool with the expected arguments (before any drift). This
 * is how a BETS suite built from BFCL cases gets a model that is right unless its profile says
 * otherwise.
 */
import {
  bfclAnswersFileFor,
  bfclGoldenCall,
  bfclLastUserText,
  loadBfclAnswers,
  loadBfclCases,
  toToolName,
} from '../contracts/bfcl-import.js';

export interface ExpectedCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface KnownCase {
  id?: string;
  /** The last user message's text; compared with whitespace collapsed and ends trimmed. */
  messagesMatch: string;
  /** The call the model makes for that message. */
  expected: ExpectedCall;
  /**
   * What the model does after the n-th round of tool results (`followUps[n-1]`): another call, or
   * when absent (or the list is shorter), a text answer summarising the results.
   */
  followUps?: ExpectedCall[];
  /**
   * The tools the golden case offers. When several cases share a message (BFCL repeats prompts
   * across categories with different accepted values), the case offering the same tools wins.
   */
  tools?: string[];
}

function normaliseText(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** BFCL names (`math.factorial`) and offered tool names (`math_factorial`) meet here. */
function normaliseToolName(name: string): string {
  return toToolName(name);
}

/** Lookup of known cases by message text, in O(1) per request. */
export class KnownCaseIndex {
  private readonly byText = new Map<string, KnownCase[]>();

  constructor(cases: readonly KnownCase[] = []) {
    for (const c of cases) {
      const key = normaliseText(c.messagesMatch);
      const list = this.byText.get(key);
      if (list) list.push(c);
      else this.byText.set(key, [c]);
    }
  }

  get size(): number {
    let n = 0;
    for (const list of this.byText.values()) n += list.length;
    return n;
  }

  /**
   * The case for this message whose expected tool is among the offered ones (the same prompt
   * can appear in several BFCL cases with different tools). Returns the offered tool's name.
   */
  find(
    lastUserText: string,
    offeredTools: readonly string[],
  ): { knownCase: KnownCase; toolName: string } | undefined {
    const list = this.byText.get(normaliseText(lastUserText));
    if (!list) return undefined;
    let fallback: { knownCase: KnownCase; toolName: string } | undefined;
    for (const knownCase of list) {
      const toolName = offeredName(knownCase.expected.name, offeredTools);
      if (toolName === undefined) continue;
      if (list.length === 1 || sameTools(knownCase.tools, offeredTools)) return { knownCase, toolName };
      fallback ??= { knownCase, toolName };
    }
    return fallback;
  }
}

function sameTools(caseTools: readonly string[] | undefined, offeredTools: readonly string[]): boolean {
  if (!caseTools || caseTools.length !== offeredTools.length) return false;
  const offered = new Set(offeredTools.map(normaliseToolName));
  return caseTools.every((t) => offered.has(normaliseToolName(t)));
}

/** The offered tool a case's call refers to, by exact name or by provider-safe name. */
export function offeredName(name: string, offeredTools: readonly string[]): string | undefined {
  if (offeredTools.includes(name)) return name;
  const wanted = normaliseToolName(name);
  return offeredTools.find((t) => normaliseToolName(t) === wanted);
}

/**
 * Known cases from a BFCL case file and its answers (`X.json` + `X.answers.json` beside it):
 * each case's last user message -> its first expected call, with first accepted values.
 */
export async function knownCasesFromBfcl(casesFile: string, answersFile = bfclAnswersFileFor(casesFile)) {
  const [cases, answers] = await Promise.all([loadBfclCases(casesFile), loadBfclAnswers(answersFile)]);
  const answerById = new Map(answers.map((a) => [a.id, a]));
  const out: KnownCase[] = [];
  for (const c of cases) {
    const answer = answerById.get(c.id);
    const text = bfclLastUserText(c);
    const golden = answer && bfclGoldenCall(c, answer);
    if (!golden || text === undefined) continue;
    out.push({
      id: c.id,
      messagesMatch: text,
      expected: { name: golden.toolName, arguments: golden.arguments },
      tools: c.function.map((f) => toToolName(f.name)),
    });
  }
  return out;
}
