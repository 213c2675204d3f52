/**
 * The provider-neutral view of a request: what a simulated model needs to decide its answer.
 * Both wire formats (openai-wire.ts, anthropic-wire.ts) parse into this, and the reply logic
 * (reply.ts) never sees a wire format.
 */
import type { JsonSchema } from './schema-values.js';

export interface ToolSpec {
  name: string;
  description: string;
  parameters: JsonSchema;
}

export type ToolChoice =
  | { mode: 'auto' }
  | { mode: 'none' }
  /** The model must call some tool (OpenAI `required`, Anthropic `any`). */
  | { mode: 'required' }
  | { mode: 'tool'; name: string };

export type OutputFormat = { kind: 'text' } | { kind: 'json'; schema?: JsonSchema };

export interface ToolResult {
  /** The tool's name when the history says which call it answers. */
  name?: string;
  content: string;
}

export interface SimRequest {
  model: string;
  /** System (and developer) instructions, joined. */
  system: string;
  /** Text of the last user message that is not only tool results. */
  lastUserText: string;
  /** Assistant tool-call turns since that user message: how far into an agent loop we are. */
  toolRounds: number;
  /** The conversation ends with tool results: the model is expected to use them. */
  endsWithToolResult: boolean;
  /** The tool results of the final turn. */
  lastToolResults: ToolResult[];
  tools: ToolSpec[];
  toolChoice: ToolChoice;
  output: OutputFormat;
  maxTokens?: number;
  stream: boolean;
  /** OpenAI `stream_options.include_usage`. */
  includeUsage: boolean;
  /**
   * The conversation and tools as JSON text: the request's identity for seeding and repeat
   * counting, and the base of the prompt token estimate. Plain JSON.stringify, not a key-sorted
   * form: a client serialises the same request the same way, and sorting cost 3x the time.
   */
  identity: string;
}

/** A parse outcome: the request, or the field that is wrong and why. */
export type ParseResult =
  | { ok: true; request: SimRequest }
  | { ok: false; param: string | null; message: string };

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const key of keys) {
    const v = record[key];
    if (v === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(key)}:${stableStringify(v)}`;
  }
  return `${out}}`;
}

/** Rough token count the way the brief of the simulator asks: characters / 4. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** The system prompt asks for JSON (e.g. "Respond only with JSON"). */
export function systemAsksForJson(system: string): boolean {
  return /\bjson\b/i.test(system);
}

/**
 * A JSON Schema or example object written in the system prompt, if any: the outermost `{...}`
 * that parses. An example object (no `type`/`properties`) is turned into a schema of its shape.
 */
export function schemaFromSystemPrompt(system: string): JsonSchema | undefined {
  const start = system.indexOf('{');
  const end = system.lastIndexOf('}');
  if (start === -1 || end <= start) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(system.slice(start, end + 1));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const obj = parsed as Record<string, unknown>;
  if (typeof obj.type === 'string' || typeof obj.properties === 'object' || typeof obj.$schema === 'string') {
    return obj;
  }
  return schemaOfExample(obj);
}

function schemaOfExample(value: unknown): JsonSchema {
  if (value === null) return { type: 'null' };
  if (Array.isArray(value))
    return { type: 'array', items: value.length > 0 ? schemaOfExample(value[0]) : {} };
  switch (typeof value) {
    case 'number':
      return { type: Number.isInteger(value) ? 'integer' : 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'string':
      return { type: 'string' };
    case 'object': {
      const properties: Record<string, JsonSchema> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>))
        properties[k] = schemaOfExample(v);
      return { type: 'object', properties, required: Object.keys(properties) };
    }
    default:
      return {};
  }
}
