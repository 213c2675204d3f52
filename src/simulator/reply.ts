/**
 * What a simulated model answers, independent of the wire format: a tool call or text.
 *
 * Order of decisions (each from its own PRNG stream, so changing one concern never reshuffles
 * another):
 * 1. A judge profile answers the judge protocol (judge.ts).
 * 2. With tools offered (and tool_choice not `none`): the intended call is the known case's
 *    expected call, or its `followUps` step after tool results; with no case, the best word-overlap
 *    tool with arguments generated from its schema and the message. After tool results with no
 *    further step, and tool_choice `auto`, the model answers in text instead.
 * 3. Accuracy: with probability 1 - toolCallAccuracy the call is wrong but schema-valid: another
 *    offered tool, or (one tool) the same tool with arguments not taken from the message.
 * 4. Drift (drift.ts) is applied last, to the call or to the text.
 */
import { driftArguments, firedDrifts, otherToolIndex, wrapInMarkdown } from './drift.js';
import { extractHints, type Hints } from './hints.js';
import { isJudgeRequest, judgeVerdict, parseJudgeInput } from './judge.js';
import { type ExpectedCall, type KnownCaseIndex, offeredName } from './known-cases.js';
import type { Rng } from './prng.js';
import type { DriftKind, ResolvedProfile } from './profile.js';
import { generateArguments, generateValue } from './schema-values.js';
import { type SimRequest, schemaFromSystemPrompt, systemAsksForJson } from './sim-request.js';
import { answerText, summariseToolResults, truncateToTokens } from './text.js';
import { chooseTool } from './tool-selection.js';

export type ModelOutput =
  | { kind: 'text'; text: string; truncated: boolean }
  | { kind: 'tool_call'; name: string; arguments: Record<string, unknown>; argumentsJson: string };

export interface Reply {
  output: ModelOutput;
  /** Drift kinds that changed this output (for logs and tests). */
  drift: DriftKind[];
  knownCaseId?: string;
  /** For tool calls: whether the accuracy draw made it the right call. */
  accurate?: boolean;
}

export interface ReplyEnv {
  profile: ResolvedProfile;
  rng: Rng;
  tenant: string | undefined;
  knownCases: KnownCaseIndex;
}

interface Intended {
  index: number;
  args?: Record<string, unknown>;
  knownCaseId?: string;
}

function intendedCall(req: SimRequest, env: ReplyEnv): Intended | undefined {
  const names = req.tools.map((t) => t.name);
  const forced = req.toolChoice.mode === 'tool' ? names.indexOf(req.toolChoice.name) : -1;
  const match = env.knownCases.find(req.lastUserText, names);
  const fromCase = (call: ExpectedCall | undefined): Intended | undefined => {
    const name = call && offeredName(call.name, names);
    if (!call || name === undefined) return undefined;
    const index = names.indexOf(name);
    if (forced !== -1 && forced !== index) return undefined;
    return {
      index,
      args: call.arguments,
      ...(match?.knownCase.id ? { knownCaseId: match.knownCase.id } : {}),
    };
  };
  if (req.endsWithToolResult) {
    const step = fromCase(match?.knownCase.followUps?.[req.toolRounds - 1]);
    if (step) return step;
    // Tool results are in: answer in text, unless the client insists on a call.
    if (req.toolChoice.mode === 'auto') return undefined;
  } else {
    const expected = fromCase(match?.knownCase.expected);
    if (expected) return expected;
  }
  return { index: forced !== -1 ? forced : chooseTool(req.tools, req.lastUserText) };
}

function toolCallReply(req: SimRequest, env: ReplyEnv, intended: Intended, hints: Hints): Reply {
  const content = env.rng.fork('content');
  const accuracy = env.rng.fork('accuracy');
  const driftRng = env.rng.fork('drift');
  let index = intended.index;
  let tool = req.tools[index];
  if (!tool) throw new Error('intended tool index out of range');
  const intendedName = tool.name;
  let args = intended.args ?? generateArguments(tool.parameters, content, { hints });
  const accurate = accuracy.chance(env.profile.toolCallAccuracy);
  if (!accurate) {
    const other = otherToolIndex(req.tools.length, index, accuracy);
    if (other !== undefined) index = other;
    tool = req.tools[index] ?? tool;
    args = generateArguments(tool.parameters, accuracy, { hints, useHints: other !== undefined });
  }
  const fired = firedDrifts(env.profile.drift, { tenant: env.tenant, toolName: intendedName }, driftRng);
  const applied: DriftKind[] = [];
  if (fired.has('other_tool')) {
    const other = otherToolIndex(req.tools.length, index, driftRng);
    if (other !== undefined) {
      index = other;
      tool = req.tools[index] ?? tool;
      args = generateArguments(tool.parameters, driftRng, { hints });
      applied.push('other_tool');
    }
  }
  const drifted = driftArguments(args, tool.parameters, fired, driftRng);
  applied.push(...drifted.applied);
  return {
    output: {
      kind: 'tool_call',
      name: tool.name,
      arguments: drifted.args,
      argumentsJson: JSON.stringify(drifted.args),
    },
    drift: applied,
    accurate,
    ...(intended.knownCaseId ? { knownCaseId: intended.knownCaseId } : {}),
  };
}

function textReply(req: SimRequest, env: ReplyEnv, hints: Hints): Reply {
  const content = env.rng.fork('content');
  const fired = firedDrifts(
    env.profile.drift,
    { tenant: env.tenant, toolName: undefined },
    env.rng.fork('drift'),
  );
  const applied: DriftKind[] = [];
  let text: string;
  let isJson = false;
  if (env.profile.judge && isJudgeRequest(req.system)) {
    text = JSON.stringify(judgeVerdict(parseJudgeInput(req.lastUserText), env.profile.judge, content));
    isJson = true;
  } else if (req.endsWithToolResult) {
    text = summariseToolResults(req.lastToolResults, fired.has('changed_wording'));
    if (fired.has('changed_wording')) applied.push('changed_wording');
  } else if (req.output.kind === 'json' || systemAsksForJson(req.system)) {
    const schema = req.output.kind === 'json' ? req.output.schema : schemaFromSystemPrompt(req.system);
    const value = schema
      ? generateValue(schema, content, { hints })
      : { answer: answerText(req.lastUserText, content, false) };
    text = JSON.stringify(value);
    isJson = true;
  } else {
    text = answerText(req.lastUserText, content, fired.has('changed_wording'));
    if (fired.has('changed_wording')) applied.push('changed_wording');
  }
  if (isJson && fired.has('json_in_markdown')) {
    text = wrapInMarkdown(text);
    applied.push('json_in_markdown');
  }
  const cut = truncateToTokens(text, req.maxTokens);
  return { output: { kind: 'text', text: cut.text, truncated: cut.truncated }, drift: applied };
}

export function planReply(req: SimRequest, env: ReplyEnv): Reply {
  const hints = extractHints(req.lastUserText);
  const judging = env.profile.judge !== undefined && isJudgeRequest(req.system);
  if (!judging && req.tools.length > 0 && req.toolChoice.mode !== 'none') {
    const intended = intendedCall(req, env);
    if (intended) return toolCallReply(req, env, intended, hints);
  }
  return textReply(req, env, hints);
}
