import { type Static, Type } from '@sinclair/typebox';
import { bump, mergeCounts, mergeRecords, own } from './counts.js';
import { classifyTextFormat, type ObservedResponse, readArguments } from './drift-compare.js';
import { childPointer, dict, isPlainObject, jsonKindOf } from './json-shape.js';

/**
 * The shape of one cohort's tool calls, for drift detection without pairs: how often each tool
 * is chosen, how often each argument field is present, with which JSON types and a small sketch
 * of its values, and the argument and text formats. Plain counts (TypeBox schemas, so they are
 * validated when read back), merged by addition and serialized as JSON inside a DriftProfile.
 */

const Counts = Type.Record(Type.String(), Type.Number({ minimum: 0 }));

export const FieldShape = Type.Object({
  present: Type.Number({ minimum: 0 }),
  types: Counts,
  /** Bottom-k sketch of the field's (loosely normalized) scalar values, as 32-bit hashes ascending. */
  values: Type.Array(Type.Integer({ minimum: 0 })),
});
export type FieldShape = Static<typeof FieldShape>;

export const ToolShape = Type.Object({
  calls: Type.Number({ minimum: 0 }),
  /** Argument formats (json, json_in_markdown, invalid_json...). */
  formats: Counts,
  /** Keyed by JSON pointer; `*` stands for every array element. */
  fields: Type.Record(Type.String(), FieldShape),
});
export type ToolShape = Static<typeof ToolShape>;

export const ShapeStats = Type.Object({
  responses: Type.Number({ minimum: 0 }),
  /** Responses without any tool call. */
  noToolCall: Type.Number({ minimum: 0 }),
  textFormats: Counts,
  tools: Type.Record(Type.String(), ToolShape),
});
export type ShapeStats = Static<typeof ShapeStats>;

export const SKETCH_SIZE = 32;
const MAX_FIELD_DEPTH = 4;
const MAX_FIELDS_PER_TOOL = 64;
const MAX_TOOLS = 128;

export function emptyShapeStats(): ShapeStats {
  return { responses: 0, noToolCall: 0, textFormats: dict(), tools: dict() };
}

/** FNV-1a, 32 bits: cheap, stable across processes (stored sketches must stay comparable). */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Adds hashes to a bottom-k sketch, keeping it sorted, unique and at most SKETCH_SIZE long. */
function sketchAdd(sketch: number[], hashes: readonly number[]): number[] {
  const merged = [...new Set([...sketch, ...hashes])].sort((a, b) => a - b);
  return merged.length > SKETCH_SIZE ? merged.slice(0, SKETCH_SIZE) : merged;
}

/** Estimated Jaccard similarity of the value sets two sketches summarize. */
export function sketchSimilarity(a: readonly number[], b: readonly number[]): number {
  const union = sketchAdd([...a], b);
  if (union.length === 0) return 0;
  const inA = new Set(a);
  const inB = new Set(b);
  return union.filter((h) => inA.has(h) && inB.has(h)).length / union.length;
}

function observeValue(tool: ToolShape, value: unknown, path: string, depth: number, seen: Set<string>): void {
  if (path !== '' && !seen.has(path)) {
    let field = own(tool.fields, path);
    if (!field && Object.keys(tool.fields).length < MAX_FIELDS_PER_TOOL) {
      field = { present: 0, types: dict(), values: [] };
      tool.fields[path] = field;
    }
    if (field) {
      seen.add(path);
      field.present++;
      bump(field.types, jsonKindOf(value));
      if (value !== null && typeof value !== 'object') {
        field.values = sketchAdd(field.values, [hash32(String(value).trim().toLowerCase())]);
      }
    }
  }
  if (depth >= MAX_FIELD_DEPTH) return;
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) observeValue(tool, v, childPointer(path, k), depth + 1, seen);
  } else if (Array.isArray(value)) {
    for (const v of value) observeValue(tool, v, childPointer(path, '*'), depth + 1, seen);
  }
}

/** Folds one response of a cohort into its stats (mutates `stats`). */
export function observeResponse(stats: ShapeStats, response: ObservedResponse): void {
  stats.responses++;
  bump(stats.textFormats, classifyTextFormat(response.text));
  if (response.toolCalls.length === 0) stats.noToolCall++;
  for (const call of response.toolCalls) {
    let tool = own(stats.tools, call.name);
    if (!tool) {
      if (Object.keys(stats.tools).length >= MAX_TOOLS) continue;
      tool = { calls: 0, formats: dict(), fields: dict() };
      stats.tools[call.name] = tool;
    }
    tool.calls++;
    const args = readArguments(call);
    bump(tool.formats, args.format);
    if (args.value !== undefined) observeValue(tool, args.value, '', 0, new Set());
  }
}

function mergeField(a: FieldShape, b: FieldShape): FieldShape {
  return {
    present: a.present + b.present,
    types: mergeCounts(a.types, b.types),
    values: sketchAdd([...a.values], b.values),
  };
}

function mergeTool(a: ToolShape, b: ToolShape): ToolShape {
  return {
    calls: a.calls + b.calls,
    formats: mergeCounts(a.formats, b.formats),
    fields: mergeRecords(a.fields, b.fields, mergeField),
  };
}

/** Pure, associative and commutative (the caps apply when observing, not when merging). */
export function mergeShapeStats(a: ShapeStats, b: ShapeStats): ShapeStats {
  return {
    responses: a.responses + b.responses,
    noToolCall: a.noToolCall + b.noToolCall,
    textFormats: mergeCounts(a.textFormats, b.textFormats),
    tools: mergeRecords(a.tools, b.tools, mergeTool),
  };
}
