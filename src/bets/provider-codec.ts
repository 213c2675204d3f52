import type { ModelVersion, ProviderKind } from '../registry/types.js';
import type { CaseInput, Message } from './bets-types.js';
import type { Answer } from './run-types.js';

/**
 * Renders a provider-neutral case input as the request body of a model version's provider
 * (OpenAI Chat Completions or Anthropic Messages), and reads the answer back: text, tool calls
 * and token usage. Non-streamed: a test wants the whole answer, and it is simpler to check.
 */

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function openAiMessages(input: CaseInput): Json[] {
  const out: Json[] = [];
  if (input.system !== undefined) out.push({ role: 'system', content: input.system });
  for (const m of input.messages) {
    if (m.role === 'user') out.push({ role: 'user', content: m.content });
    else if (m.role === 'tool') out.push({ role: 'tool', tool_call_id: m.toolCallId, content: m.content });
    else {
      const calls = m.toolCalls ?? [];
      out.push({
        role: 'assistant',
        content: m.content ?? null,
        ...(calls.length > 0
          ? {
              tool_calls: calls.map((c) => ({
                id: c.id,
                type: 'function',
                function: { name: c.name, arguments: JSON.stringify(c.arguments ?? {}) },
              })),
            }
          : {}),
      });
    }
  }
  return out;
}

function openAiBody(input: CaseInput, model: string, maxTokens: number): Json {
  const body: Json = { model, messages: openAiMessages(input), max_tokens: maxTokens };
  if (input.tools.length > 0) {
    body.tools = input.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, description: t.description ?? '', parameters: t.parameters },
    }));
  }
  const choice = input.toolChoice;
  if (choice !== undefined) {
    body.tool_choice =
      typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
  }
  return body;
}

function anthropicBlocks(m: Message): { role: 'user' | 'assistant'; blocks: Json[] } {
  if (m.role === 'user') return { role: 'user', blocks: [{ type: 'text', text: m.content }] };
  if (m.role === 'tool') {
    return { role: 'user', blocks: [{ type: 'tool_result', tool_use_id: m.toolCallId, content: m.content }] };
  }
  const blocks: Json[] = [];
  if (m.content) blocks.push({ type: 'text', text: m.content });
  for (const c of m.toolCalls ?? [])
    blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: c.arguments ?? {} });
  return { role: 'assistant', blocks };
}

function anthropicBody(input: CaseInput, model: string, maxTokens: number): Json {
  // Anthropic wants alternating roles: consecutive turns of one role (tool results after a
  // parallel call, or a user turn after them) are merged into one message of blocks.
  const messages: { role: string; content: Json[] }[] = [];
  for (const m of input.messages) {
    const { role, blocks } = anthropicBlocks(m);
    const last = messages[messages.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  }
  const body: Json = { model, max_tokens: maxTokens, messages };
  if (input.system !== undefined) body.system = input.system;
  if (input.tools.length > 0) {
    body.tools = input.tools.map((t) => ({
      name: t.name,
      description: t.description ?? '',
      input_schema: t.parameters,
    }));
  }
  const choice = input.toolChoice;
  if (choice !== undefined) {
    body.tool_choice =
      typeof choice === 'string'
        ? { type: choice === 'required' ? 'any' : choice }
        : { type: 'tool', name: choice.name };
  }
  return body;
}

/** The JSON text of the request for `version`, its upstream model name filled in. */
export function buildRequestBody(version: ModelVersion, input: CaseInput, maxTokens: number): string {
  const build = version.providerKind === 'anthropic' ? anthropicBody : openAiBody;
  return JSON.stringify(build(input, version.upstreamModel, maxTokens));
}

export interface ParsedReply {
  answer: Answer;
  inputTokens: number;
  outputTokens: number;
}

function parseArguments(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    // Kept as undefined: the tool-call assertion reports "arguments are not JSON" with `raw`.
    return undefined;
  }
}

const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function parseOpenAi(json: Json): ParsedReply | null {
  const choices = json.choices;
  const message = Array.isArray(choices) && isRecord(choices[0]) ? choices[0].message : undefined;
  if (!isRecord(message)) return null;
  const toolCalls: Answer['toolCalls'] = [];
  for (const c of Array.isArray(message.tool_calls) ? message.tool_calls : []) {
    if (!isRecord(c) || !isRecord(c.function) || typeof c.function.name !== 'string') continue;
    const raw =
      typeof c.function.arguments === 'string' ? c.function.arguments : JSON.stringify(c.function.arguments);
    toolCalls.push({ name: c.function.name, arguments: parseArguments(raw), raw });
  }
  const usage = isRecord(json.usage) ? json.usage : {};
  return {
    answer: { text: typeof message.content === 'string' ? message.content : null, toolCalls },
    inputTokens: count(usage.prompt_tokens),
    outputTokens: count(usage.completion_tokens),
  };
}

function parseAnthropic(json: Json): ParsedReply | null {
  if (!Array.isArray(json.content)) return null;
  const texts: string[] = [];
  const toolCalls: Answer['toolCalls'] = [];
  for (const block of json.content) {
    if (!isRecord(block)) continue;
    if (block.type === 'text' && typeof block.text === 'string') texts.push(block.text);
    if (block.type === 'tool_use' && typeof block.name === 'string') {
      toolCalls.push({ name: block.name, arguments: block.input, raw: JSON.stringify(block.input ?? null) });
    }
  }
  const usage = isRecord(json.usage) ? json.usage : {};
  return {
    answer: { text: texts.length > 0 ? texts.join('') : null, toolCalls },
    inputTokens: count(usage.input_tokens),
    outputTokens: count(usage.output_tokens),
  };
}

/** The answer in a provider's JSON body, or null when the body is not an answer of that format. */
export function parseReply(kind: ProviderKind, json: unknown): ParsedReply | null {
  if (!isRecord(json)) return null;
  return kind === 'anthropic' ? parseAnthropic(json) : parseOpenAi(json);
}
