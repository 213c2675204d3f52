import type { CaseInput, Message, ToolCall, ToolChoice, ToolDef } from '../bets-types.js';
import type { Answer } from '../run-types.js';

/**
 * A captured gateway request (OpenAI Chat Completions or Anthropic Messages body) as a
 * provider-neutral case input, and the gateway's response summary as an Answer. Foreign data:
 * anything unreadable yields undefined rather than a half-converted case.
 */

export type WireFormat = 'openai' | 'anthropic';

/** What the gateway knows of an answer (its ResponseSummary fits). */
export interface CapturedResponse {
  text: string | null;
  toolCalls: readonly { name: string; arguments: string }[];
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

function parseArgs(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw ?? {};
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter(
      (p): p is Json =>
        isRecord(p) && typeof p.text === 'string' && (p.type === undefined || p.type === 'text'),
    )
    .map((p) => p.text as string)
    .join('\n');
}

/** Which wire format a body is in, when the caller does not say. */
export function detectFormat(body: Json): WireFormat {
  if ('system' in body) return 'anthropic';
  const tools = Array.isArray(body.tools) ? body.tools : [];
  if (tools.some((t) => isRecord(t) && 'input_schema' in t)) return 'anthropic';
  const messages = Array.isArray(body.messages) ? body.messages : [];
  for (const m of messages) {
    if (!isRecord(m)) continue;
    if (m.role === 'system' || m.role === 'tool' || m.role === 'developer') return 'openai';
    if (
      Array.isArray(m.content) &&
      m.content.some((b) => isRecord(b) && (b.type === 'tool_use' || b.type === 'tool_result'))
    ) {
      return 'anthropic';
    }
  }
  return 'openai';
}

function toolsOf(body: Json, format: WireFormat): ToolDef[] | undefined {
  const tools: ToolDef[] = [];
  for (const t of Array.isArray(body.tools) ? body.tools : []) {
    const fn = format === 'openai' && isRecord(t) ? t.function : t;
    if (!isRecord(fn) || typeof fn.name !== 'string' || !TOOL_NAME.test(fn.name)) return undefined;
    const parameters = format === 'openai' ? fn.parameters : fn.input_schema;
    tools.push({
      name: fn.name,
      ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
      parameters: isRecord(parameters) ? parameters : { type: 'object', properties: {} },
    });
  }
  return tools;
}

function toolChoiceOf(choice: unknown, format: WireFormat): ToolChoice | undefined {
  if (format === 'openai') {
    if (choice === 'auto' || choice === 'required' || choice === 'none') return choice;
    if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string')
      return { name: choice.function.name };
    return undefined;
  }
  if (!isRecord(choice)) return undefined;
  if (choice.type === 'auto' || choice.type === 'none') return choice.type;
  if (choice.type === 'any') return 'required';
  if (choice.type === 'tool' && typeof choice.name === 'string') return { name: choice.name };
  return undefined;
}

function openAiMessages(body: Json, system: string[]): Message[] | undefined {
  const out: Message[] = [];
  for (const m of Array.isArray(body.messages) ? body.messages : []) {
    if (!isRecord(m)) return undefined;
    if (m.role === 'system' || m.role === 'developer') system.push(textOf(m.content));
    else if (m.role === 'user') out.push({ role: 'user', content: textOf(m.content) });
    else if (m.role === 'tool') {
      if (typeof m.tool_call_id !== 'string') return undefined;
      out.push({ role: 'tool', toolCallId: m.tool_call_id, content: textOf(m.content) });
    } else if (m.role === 'assistant') {
      const calls: ToolCall[] = [];
      for (const c of Array.isArray(m.tool_calls) ? m.tool_calls : []) {
        if (
          !isRecord(c) ||
          !isRecord(c.function) ||
          typeof c.id !== 'string' ||
          typeof c.function.name !== 'string'
        )
          return undefined;
        calls.push({ id: c.id, name: c.function.name, arguments: parseArgs(c.function.arguments) });
      }
      const text = textOf(m.content);
      out.push({
        role: 'assistant',
        ...(text ? { content: text } : {}),
        ...(calls.length > 0 ? { toolCalls: calls } : {}),
      });
    } else return undefined;
  }
  return out;
}

function anthropicMessages(body: Json, system: string[]): Message[] | undefined {
  if (body.system !== undefined) system.push(textOf(body.system));
  const out: Message[] = [];
  for (const m of Array.isArray(body.messages) ? body.messages : []) {
    if (!isRecord(m)) return undefined;
    const blocks =
      typeof m.content === 'string'
        ? [{ type: 'text', text: m.content }]
        : Array.isArray(m.content)
          ? m.content
          : [];
    if (m.role === 'user') {
      for (const b of blocks) {
        if (isRecord(b) && b.type === 'tool_result' && typeof b.tool_use_id === 'string') {
          out.push({ role: 'tool', toolCallId: b.tool_use_id, content: textOf(b.content) });
        }
      }
      const text = textOf(blocks);
      if (text) out.push({ role: 'user', content: text });
    } else if (m.role === 'assistant') {
      const calls: ToolCall[] = blocks
        .filter(
          (b): b is Json =>
            isRecord(b) && b.type === 'tool_use' && typeof b.id === 'string' && typeof b.name === 'string',
        )
        .map((b) => ({ id: b.id as string, name: b.name as string, arguments: b.input ?? {} }));
      const text = textOf(blocks);
      out.push({
        role: 'assistant',
        ...(text ? { content: text } : {}),
        ...(calls.length > 0 ? { toolCalls: calls } : {}),
      });
    } else return undefined;
  }
  return out;
}

export function requestToCaseInput(body: unknown, format?: WireFormat): CaseInput | undefined {
  if (!isRecord(body)) return undefined;
  const wire = format ?? detectFormat(body);
  const system: string[] = [];
  const messages = wire === 'openai' ? openAiMessages(body, system) : anthropicMessages(body, system);
  const tools = toolsOf(body, wire);
  if (!messages || messages.length === 0 || !tools) return undefined;
  const toolChoice = toolChoiceOf(body.tool_choice, wire);
  const joined = system.filter((s) => s.length > 0).join('\n');
  return {
    ...(joined ? { system: joined } : {}),
    messages,
    tools,
    ...(toolChoice !== undefined ? { toolChoice } : {}),
  };
}

export function responseToAnswer(r: CapturedResponse): Answer {
  return {
    text: r.text,
    toolCalls: r.toolCalls.map((c) => ({
      name: c.name,
      arguments: parseArgs(c.arguments),
      raw: c.arguments,
    })),
  };
}
