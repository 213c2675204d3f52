/**
 * Test helpers for talking to the simulator (or anything speaking the same wire formats) with
 * plain fetch: SSE parsing and reassembly of streamed replies the way the official SDKs do it.
 */
import { type RunningSimulator, type SimulatorOptions, startSimulator } from '../server.js';

export interface SseEvent {
  event?: string;
  data: string;
}

/** Splits an SSE body into events; a trailing incomplete event is returned with `partial`. */
export function parseSse(text: string): { events: SseEvent[]; partial: string } {
  const events: SseEvent[] = [];
  const blocks = text.split('\n\n');
  const partial = blocks.pop() ?? '';
  for (const block of blocks) {
    if (!block.trim()) continue;
    const event: SseEvent = { data: '' };
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event.event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    event.data = data.join('\n');
    events.push(event);
  }
  return { events, partial };
}

export interface AssembledOpenAi {
  content: string | null;
  toolCalls: Array<{ id: string; type: string; name: string; arguments: string }>;
  finishReason: string | null;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  done: boolean;
  chunks: number;
  /** How many argument fragments each tool call arrived in. */
  argumentFragments: number[];
}

type Json = Record<string, unknown>;

/** Reassembles `chat.completion.chunk` events: content concatenated, tool calls merged by index. */
export function assembleOpenAiStream(events: SseEvent[]): AssembledOpenAi {
  const out: AssembledOpenAi = {
    content: null,
    toolCalls: [],
    finishReason: null,
    usage: null,
    done: false,
    chunks: 0,
    argumentFragments: [],
  };
  for (const e of events) {
    if (e.data === '[DONE]') {
      out.done = true;
      continue;
    }
    const chunk = JSON.parse(e.data) as Json;
    out.chunks++;
    if (chunk.object !== 'chat.completion.chunk')
      throw new Error(`unexpected object ${String(chunk.object)}`);
    if (chunk.usage) out.usage = chunk.usage as AssembledOpenAi['usage'];
    for (const choice of (chunk.choices as Json[]) ?? []) {
      const delta = (choice.delta ?? {}) as Json;
      if (typeof delta.content === 'string') out.content = (out.content ?? '') + delta.content;
      for (const call of (delta.tool_calls as Json[] | undefined) ?? []) {
        const index = call.index as number;
        const fn = (call.function ?? {}) as Json;
        const target = out.toolCalls[index] ?? { id: '', type: '', name: '', arguments: '' };
        out.toolCalls[index] = target;
        if (typeof call.id === 'string') target.id = call.id;
        if (typeof call.type === 'string') target.type = call.type;
        if (typeof fn.name === 'string') target.name += fn.name;
        if (typeof fn.arguments === 'string' && fn.arguments.length > 0) {
          target.arguments += fn.arguments;
          out.argumentFragments[index] = (out.argumentFragments[index] ?? 0) + 1;
        }
      }
      if (choice.finish_reason) out.finishReason = choice.finish_reason as string;
    }
  }
  return out;
}

export interface AssembledAnthropic {
  eventTypes: string[];
  message: Json;
  content: Json[];
  stopReason: string | null;
  outputTokens: number | null;
  inputJsonFragments: number;
}

/** Reassembles Anthropic stream events into the final message, as the SDK's MessageStream does. */
export function assembleAnthropicStream(events: SseEvent[]): AssembledAnthropic {
  const out: AssembledAnthropic = {
    eventTypes: [],
    message: {},
    content: [],
    stopReason: null,
    outputTokens: null,
    inputJsonFragments: 0,
  };
  const partialJson: string[] = [];
  for (const e of events) {
    const data = JSON.parse(e.data) as Json;
    if (data.type !== e.event) throw new Error(`event ${e.event} carries type ${String(data.type)}`);
    out.eventTypes.push(e.event ?? '');
    switch (data.type) {
      case 'message_start':
        out.message = data.message as Json;
        break;
      case 'content_block_start':
        out.content[data.index as number] = { ...(data.content_block as Json) };
        partialJson[data.index as number] = '';
        break;
      case 'content_block_delta': {
        const block = out.content[data.index as number] as Json;
        const delta = data.delta as Json;
        if (delta.type === 'text_delta') block.text = `${String(block.text)}${String(delta.text)}`;
        if (delta.type === 'input_json_delta') {
          partialJson[data.index as number] += String(delta.partial_json);
          if (delta.partial_json) out.inputJsonFragments++;
        }
        break;
      }
      case 'content_block_stop': {
        const block = out.content[data.index as number] as Json;
        if (block.type === 'tool_use') {
          const json = partialJson[data.index as number] ?? '';
          block.input = json ? JSON.parse(json) : {};
        }
        break;
      }
      case 'message_delta':
        out.stopReason = (data.delta as Json).stop_reason as string;
        out.outputTokens = (data.usage as Json).output_tokens as number;
        break;
    }
  }
  return out;
}

export interface Posted {
  status: number;
  headers: Headers;
  text: string;
  json(): Json;
}

export async function post(
  sim: Pick<RunningSimulator, 'url'>,
  path: '/v1/chat/completions' | '/v1/messages' | string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Posted> {
  const response = await fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer test', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as Json };
}

/** GET a JSON document (status included). */
export async function getJson(
  sim: Pick<RunningSimulator, 'url'>,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${sim.url}${path}`, { headers });
  return { status: response.status, body: (await response.json()) as Json };
}

/** Runs `fn` against a fresh simulator and always closes it. */
export async function withSimulator<T>(
  options: SimulatorOptions,
  fn: (sim: RunningSimulator) => Promise<T>,
): Promise<T> {
  const sim = await startSimulator(options);
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

/** The tool call of a plain OpenAI completion, arguments parsed. */
export function openAiToolCall(body: Json): { name: string; arguments: Record<string, unknown> } | undefined {
  const choice = (body.choices as Json[])[0] as Json;
  const calls = (choice.message as Json).tool_calls as Json[] | undefined;
  const fn = calls?.[0]?.function as Json | undefined;
  if (!fn) return undefined;
  return {
    name: fn.name as string,
    arguments: JSON.parse(fn.arguments as string) as Record<string, unknown>,
  };
}

export function openAiText(body: Json): string | null {
  const choice = (body.choices as Json[])[0] as Json;
  return (choice.message as Json).content as string | null;
}
