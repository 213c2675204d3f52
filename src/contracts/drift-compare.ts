import { findFencedJson } from './fenced-json.js';
import { childPointer, isPlainObject, type JsonKind, jsonEqual, jsonKindOf } from './json-shape.js';
import { type NameMatchReason, nameSimilarity } from './name-similarity.js';
import { parseToolArguments, type ToolCallInput, type UnparsableReason } from './tool-call-validator.js';

/**
 * Drift between what the stable version and the candidate did with the same input (a shadow
 * pair): which tool was chosen, which argument fields went missing, appeared, were renamed or
 * changed type, and whether the output format moved (JSON -> JSON in a markdown fence...).
 * Values themselves are not compared: two samples of one model already differ in wording, so
 * only the shape is evidence of drift. A renamed field is reported as a rename (not missing +
 * added) when a missing and an added field at the same level look like the same argument:
 * similar names (case style, plural, synonym, edit distance) weighted with how their values
 * relate (equal, equal after loose normalization, same type).
 */

export type DriftKind =
  | 'tool_changed'
  | 'call_missing'
  | 'call_added'
  | 'field_missing'
  | 'field_added'
  | 'field_renamed'
  | 'type_changed'
  | 'format_shift';

export const DRIFT_KINDS: readonly DriftKind[] = [
  'tool_changed',
  'call_missing',
  'call_added',
  'field_missing',
  'field_added',
  'field_renamed',
  'type_changed',
  'format_shift',
];

/** How a call's arguments were written (an Anthropic `input` object counts as `json`). */
export type ArgumentFormat = 'json' | UnparsableReason;

/** How a text answer is written; `none` when there is no text. */
export type TextFormat = 'none' | 'json' | 'json_in_markdown' | 'markdown' | 'text';

export type ValueRelation = 'equal' | 'compatible' | 'same_type' | 'different';

/** Every finding names the tool it is about: the stable call's tool (or the candidate's, for call_added). */
export type DriftFinding =
  | { kind: 'tool_changed'; tool: string; to: string }
  | { kind: 'call_missing'; tool: string }
  | { kind: 'call_added'; tool: string }
  | { kind: 'field_missing'; tool: string; path: string }
  | { kind: 'field_added'; tool: string; path: string }
  | {
      kind: 'field_renamed';
      tool: string;
      path: string;
      to: string;
      score: number;
      nameReason: NameMatchReason;
      value: ValueRelation;
    }
  | { kind: 'type_changed'; tool: string; path: string; from: JsonKind; to: JsonKind }
  | { kind: 'format_shift'; tool: string | null; from: string; to: string };

export interface ObservedResponse {
  toolCalls: readonly ToolCallInput[];
  text?: string | null;
}

export interface PairComparison {
  findings: DriftFinding[];
  /** Tool names the stable version called, in order (the expectation the findings are about). */
  stableTools: string[];
  candidateTools: string[];
}

export interface ReadArguments {
  format: ArgumentFormat;
  /** The arguments, also when they came fenced in markdown; undefined when unreadable. */
  value: unknown;
}

export function readArguments(call: ToolCallInput): ReadArguments {
  const parsed = parseToolArguments(call);
  if (parsed.ok) return { format: 'json', value: parsed.value };
  return { format: parsed.reason, value: parsed.fenced };
}

const MARKDOWN = /(^|\n)\s*(#{1,6}\s|[-*+]\s|\d+\.\s|>\s|```)|\*\*[^*]+\*\*|\[[^\]]+\]\([^)]+\)/;

export function classifyTextFormat(text: string | null | undefined): TextFormat {
  if (text === null || text === undefined || text.trim() === '') return 'none';
  const t = text.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      JSON.parse(t);
      return 'json';
    } catch {
      // not JSON after all; fall through
    }
  }
  if (findFencedJson(text)) return 'json_in_markdown';
  return MARKDOWN.test(text) ? 'markdown' : 'text';
}

/** Booleans, null, small integers and very short strings match by chance: weak evidence of a rename. */
function weak(value: unknown): boolean {
  return (
    value === null ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 10) ||
    (typeof value === 'string' && value.length < 3)
  );
}

/** Equal after the drifts coercion would undo: "42" ~ 42, "true" ~ true, [x] ~ x, case and spaces. */
function loose(value: unknown): unknown {
  if (Array.isArray(value) && value.length === 1) return loose(value[0]);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return String(value).trim().toLowerCase();
  }
  return value;
}

export function valueRelation(a: unknown, b: unknown): ValueRelation {
  if (jsonEqual(a, b)) return 'equal';
  if (jsonEqual(loose(a), loose(b))) return 'compatible';
  return jsonKindOf(a) === jsonKindOf(b) ? 'same_type' : 'different';
}

const RELATION_WEIGHT: Record<ValueRelation, [strong: number, weak: number]> = {
  equal: [1, 0.6],
  compatible: [0.8, 0.5],
  same_type: [0.3, 0.3],
  different: [0, 0],
};

/** Combined name and value score at or above which a missing + added field pair is one renamed field. */
export const RENAME_THRESHOLD = 0.6;
const NAME_WEIGHT = 0.6;
const MIN_NAME_SCORE = 0.3;

export interface RenameMatch {
  from: string;
  to: string;
  score: number;
  nameReason: NameMatchReason;
  value: ValueRelation;
}

/** Pairs missing and added keys into renames, best score first, each key used once. */
export function matchRenames(
  missing: readonly string[],
  added: readonly string[],
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): RenameMatch[] {
  const candidates: RenameMatch[] = [];
  for (const from of missing) {
    for (const to of added) {
      const name = nameSimilarity(from, to);
      if (name.score < MIN_NAME_SCORE) continue;
      const relation = valueRelation(before[from], after[to]);
      const [strong, weakWeight] = RELATION_WEIGHT[relation];
      const score = NAME_WEIGHT * name.score + (1 - NAME_WEIGHT) * (weak(before[from]) ? weakWeight : strong);
      if (score >= RENAME_THRESHOLD) {
        candidates.push({
          from,
          to,
          score: Math.round(score * 1000) / 1000,
          nameReason: name.reason,
          value: relation,
        });
      }
    }
  }
  candidates.sort((x, y) => y.score - x.score);
  const usedFrom = new Set<string>();
  const usedTo = new Set<string>();
  const out: RenameMatch[] = [];
  for (const c of candidates) {
    if (usedFrom.has(c.from) || usedTo.has(c.to)) continue;
    usedFrom.add(c.from);
    usedTo.add(c.to);
    out.push(c);
  }
  return out;
}

const MAX_DEPTH = 8;

function diffValues(
  tool: string,
  a: unknown,
  b: unknown,
  path: string,
  out: DriftFinding[],
  depth: number,
): void {
  const ka = jsonKindOf(a);
  const kb = jsonKindOf(b);
  if (ka !== kb) {
    out.push({ kind: 'type_changed', tool, path, from: ka, to: kb });
    return;
  }
  if (depth >= MAX_DEPTH) return;
  if (isPlainObject(a) && isPlainObject(b)) diffObjects(tool, a, b, path, out, depth + 1);
  else if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) diffValues(tool, a[i], b[i], childPointer(path, i), out, depth + 1);
  }
}

function diffObjects(
  tool: string,
  a: Record<string, unknown>,
  b: Record<string, unknown>,
  path: string,
  out: DriftFinding[],
  depth: number,
): void {
  const missing: string[] = [];
  for (const key of Object.keys(a)) {
    if (Object.hasOwn(b, key)) diffValues(tool, a[key], b[key], childPointer(path, key), out, depth);
    else missing.push(key);
  }
  const added = Object.keys(b).filter((key) => !Object.hasOwn(a, key));
  const renames = missing.length > 0 && added.length > 0 ? matchRenames(missing, added, a, b) : [];
  const renamedFrom = new Set(renames.map((r) => r.from));
  const renamedTo = new Set(renames.map((r) => r.to));
  for (const r of renames) {
    const to = childPointer(path, r.to);
    out.push({
      kind: 'field_renamed',
      tool,
      path: childPointer(path, r.from),
      to,
      score: r.score,
      nameReason: r.nameReason,
      value: r.value,
    });
    diffValues(tool, a[r.from], b[r.to], to, out, depth);
  }
  for (const key of missing) {
    if (!renamedFrom.has(key)) out.push({ kind: 'field_missing', tool, path: childPointer(path, key) });
  }
  for (const key of added) {
    if (!renamedTo.has(key)) out.push({ kind: 'field_added', tool, path: childPointer(path, key) });
  }
}

/** Drift between two calls of the same tool (or of different tools: then only tool_changed). */
export function compareToolCalls(stable: ToolCallInput, candidate: ToolCallInput): DriftFinding[] {
  if (stable.name !== candidate.name)
    return [{ kind: 'tool_changed', tool: stable.name, to: candidate.name }];
  const out: DriftFinding[] = [];
  const a = readArguments(stable);
  const b = readArguments(candidate);
  if (a.format !== b.format)
    out.push({ kind: 'format_shift', tool: stable.name, from: a.format, to: b.format });
  if (a.value !== undefined && b.value !== undefined) diffValues(stable.name, a.value, b.value, '', out, 0);
  return out;
}

/**
 * Compares a shadow pair's responses. Calls are paired by tool name in order; leftover calls on
 * both sides pair up as a changed tool choice; what is left after that is a missing or an extra call.
 */
export function compareResponses(stable: ObservedResponse, candidate: ObservedResponse): PairComparison {
  const findings: DriftFinding[] = [];
  const used = new Set<number>();
  const unmatched: ToolCallInput[] = [];
  for (const s of stable.toolCalls) {
    const j = candidate.toolCalls.findIndex((c, i) => !used.has(i) && c.name === s.name);
    const c = candidate.toolCalls[j];
    if (j < 0 || !c) {
      unmatched.push(s);
      continue;
    }
    used.add(j);
    findings.push(...compareToolCalls(s, c));
  }
  const leftover = candidate.toolCalls.filter((_, i) => !used.has(i));
  for (let i = 0; i < Math.max(unmatched.length, leftover.length); i++) {
    const s = unmatched[i];
    const c = leftover[i];
    if (s && c) findings.push({ kind: 'tool_changed', tool: s.name, to: c.name });
    else if (s) findings.push({ kind: 'call_missing', tool: s.name });
    else if (c) findings.push({ kind: 'call_added', tool: c.name });
  }
  const ta = classifyTextFormat(stable.text);
  const tb = classifyTextFormat(candidate.text);
  if (ta !== tb && ta !== 'none' && tb !== 'none')
    findings.push({ kind: 'format_shift', tool: null, from: ta, to: tb });
  return {
    findings,
    stableTools: stable.toolCalls.map((c) => c.name),
    candidateTools: candidate.toolCalls.map((c) => c.name),
  };
}
