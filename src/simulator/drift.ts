/**
 * Drift: the ways a new model version breaks what downstream code relied on. Each profile lists
 * drift kinds with a rate and an optional scope (tools, tenants); per response every listed
 * drift draws once and, if it fires and applies, changes the output. The gateway under test
 * must then notice (schema validation, output contracts) or suffer (tool failures).
 *
 * Argument drifts work on top-level arguments, the level a contract check reads first.
 */
import { toToolName } from '../contracts/bfcl-import.js';
import type { Rng } from './prng.js';
import type { Drift, DriftKind } from './profile.js';
import type { JsonSchema } from './schema-values.js';

export interface DriftScope {
  tenant: string | undefined;
  /** The tool being called; undefined for a text answer (tool-scoped drifts never apply). */
  toolName: string | undefined;
}

function inScope(drift: Drift, scope: DriftScope): boolean {
  if (drift.tenants && (scope.tenant === undefined || !drift.tenants.includes(scope.tenant))) return false;
  if (drift.tools) {
    if (scope.toolName === undefined) return false;
    const wanted = toToolName(scope.toolName);
    if (!drift.tools.some((t) => t === scope.toolName || toToolName(t) === wanted)) return false;
  }
  return true;
}

/**
 * The drift kinds that fire for this response. Every listed drift draws from the PRNG whether
 * in scope or not, so adding a scoped drift never reshuffles the others' outcomes.
 */
export function firedDrifts(drifts: readonly Drift[], scope: DriftScope, rng: Rng): Set<DriftKind> {
  const fired = new Set<DriftKind>();
  for (const drift of drifts) {
    const hit = rng.chance(drift.rate);
    if (hit && inScope(drift, scope)) fired.add(drift.kind);
  }
  return fired;
}

type Args = Record<string, unknown>;

function properties(schema: JsonSchema): Record<string, unknown> {
  return typeof schema === 'object' && typeof schema.properties === 'object' && schema.properties !== null
    ? (schema.properties as Record<string, unknown>)
    : {};
}

function required(schema: JsonSchema): string[] {
  return typeof schema === 'object' && Array.isArray(schema.required) ? (schema.required as string[]) : [];
}

const SYNONYMS: Record<string, string> = {
  location: 'place',
  city: 'town',
  query: 'search_term',
  name: 'title',
  date: 'day',
  number: 'value',
  amount: 'sum',
  count: 'quantity',
  limit: 'max_results',
  id: 'identifier',
  text: 'content',
  unit: 'units',
  units: 'unit',
  type: 'kind',
  start: 'begin',
  end: 'finish',
};

/** snake_case -> camelCase, camelCase -> snake_case, else a synonym or a `_value` suffix. */
export function renamedKey(key: string): string {
  if (key.includes('_')) return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  if (/[a-z][A-Z]/.test(key)) return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  return SYNONYMS[key.toLowerCase()] ?? `${key}_value`;
}

const EXTRA_ARGUMENTS: ReadonlyArray<[string, unknown]> = [
  ['reasoning', 'Calling the tool as the user asked.'],
  ['confidence', 0.92],
  ['verbose', true],
  ['request_source', 'assistant'],
];

/** Applies the argument drifts that fired; returns the kinds that actually changed something. */
export function driftArguments(args: Args, schema: JsonSchema, fired: ReadonlySet<DriftKind>, rng: Rng) {
  const out: Args = { ...args };
  const applied: DriftKind[] = [];
  const declared = properties(schema);
  if (fired.has('missing_required')) {
    const present = required(schema).filter((k) => k in out);
    const victim = rng.pick(present);
    if (victim !== undefined) {
      delete out[victim];
      applied.push('missing_required');
    }
  }
  if (fired.has('number_as_string')) {
    const numeric = Object.keys(out).filter((k) => typeof out[k] === 'number');
    const victim = rng.pick(numeric);
    if (victim !== undefined) {
      out[victim] = String(out[victim]);
      applied.push('number_as_string');
    }
  }
  if (fired.has('renamed_argument')) {
    const candidates = Object.keys(out).filter((k) => {
      const next = renamedKey(k);
      return next !== k && !(next in declared) && !(next in out);
    });
    const victim = rng.pick(candidates);
    if (victim !== undefined) {
      // Rebuild so the renamed key keeps its position, as a model writing it would.
      const renamed: Args = {};
      for (const [k, v] of Object.entries(out)) renamed[k === victim ? renamedKey(k) : k] = v;
      for (const k of Object.keys(out)) delete out[k];
      Object.assign(out, renamed);
      applied.push('renamed_argument');
    }
  }
  if (fired.has('extra_argument')) {
    const extra = rng.pick(EXTRA_ARGUMENTS.filter(([k]) => !(k in declared) && !(k in out)));
    if (extra) {
      out[extra[0]] = extra[1];
      applied.push('extra_argument');
    }
  }
  return { args: out, applied };
}

/** Another offered tool than `current`, chosen by the PRNG; undefined when only one is offered. */
export function otherToolIndex(toolCount: number, current: number, rng: Rng): number | undefined {
  if (toolCount < 2) return undefined;
  const pick = rng.int(0, toolCount - 2);
  return pick >= current ? pick + 1 : pick;
}

/** JSON text wrapped in a markdown fence, as chat-tuned models tend to. */
export function wrapInMarkdown(json: string): string {
  return `\`\`\`json\n${json}\n\`\`\``;
}
