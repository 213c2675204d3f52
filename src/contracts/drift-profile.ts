import { type Static, Type } from '@sinclair/typebox';
import { bump, countOf, mergeCounts, mergeRecords, own, toDicts } from './counts.js';
import {
  DRIFT_KINDS,
  type DriftFinding,
  type DriftKind,
  type ObservedResponse,
  type PairComparison,
} from './drift-compare.js';
import { dict } from './json-shape.js';
import { compileSchema } from './schema-compiler.js';
import { emptyShapeStats, mergeShapeStats, observeResponse, ShapeStats } from './shape-stats.js';
import { toViolations } from './violations.js';

/**
 * The per-tenant statistical profile of a candidate's drift from the stable version, per tool
 * and per drift kind: counts from shadow pairs, and the shape statistics of both cohorts for
 * the unpaired comparison. Only counts are stored, so profiles merge by addition (a minute's
 * profile into an hour's, one gateway replica's into another's) and round-trip through JSON
 * for storage, the admin API and the rollback controller. Rates are derived, never stored.
 */

const Counts = Type.Record(Type.String(), Type.Number({ minimum: 0 }));

export const FieldDriftCounts = Type.Object({
  missing: Type.Number({ minimum: 0 }),
  added: Type.Number({ minimum: 0 }),
  /** New path -> pairs in which this field came under that name. */
  renamedTo: Counts,
  /** `number->string` -> pairs. */
  typeChanges: Counts,
});
export type FieldDriftCounts = Static<typeof FieldDriftCounts>;

export const ToolDriftCounts = Type.Object({
  /** Shadow pairs in which either version called this tool. */
  pairs: Type.Number({ minimum: 0 }),
  /** Drift kind -> pairs with at least one finding of that kind for this tool. */
  kinds: Counts,
  /** Tool the candidate called instead -> pairs. */
  choseInstead: Counts,
  /** `json->json_in_markdown` -> pairs. */
  formatShifts: Counts,
  /** JSON pointer -> field drift counts. */
  fields: Type.Record(Type.String(), FieldDriftCounts),
});
export type ToolDriftCounts = Static<typeof ToolDriftCounts>;

export const DRIFT_PROFILE_FORMAT = 'switchyard.drift-profile/v1';

export const DriftProfile = Type.Object({
  format: Type.Literal(DRIFT_PROFILE_FORMAT),
  tenantId: Type.String(),
  stableVersionId: Type.String(),
  candidateVersionId: Type.String(),
  /** Epoch ms of the first and last observation, null while empty. */
  firstAt: Type.Union([Type.Number(), Type.Null()]),
  lastAt: Type.Union([Type.Number(), Type.Null()]),
  pairs: Type.Number({ minimum: 0 }),
  pairsWithDrift: Type.Number({ minimum: 0 }),
  /** Drift kind -> pairs with at least one finding of that kind. */
  kinds: Counts,
  /** Text-answer format shifts (`json->markdown`) -> pairs. */
  textFormatShifts: Counts,
  tools: Type.Record(Type.String(), ToolDriftCounts),
  cohorts: Type.Object({ control: ShapeStats, canary: ShapeStats }),
});
export type DriftProfile = Static<typeof DriftProfile>;

/** Distinct field entries kept per tool; further fields are counted under `*`. */
const MAX_FIELDS = 128;
const MAX_TOOLS = 256;

export function emptyDriftProfile(
  tenantId: string,
  stableVersionId: string,
  candidateVersionId: string,
): DriftProfile {
  return {
    format: DRIFT_PROFILE_FORMAT,
    tenantId,
    stableVersionId,
    candidateVersionId,
    firstAt: null,
    lastAt: null,
    pairs: 0,
    pairsWithDrift: 0,
    kinds: dict(),
    textFormatShifts: dict(),
    tools: dict(),
    cohorts: { control: emptyShapeStats(), canary: emptyShapeStats() },
  };
}

function touch(profile: DriftProfile, at: number): void {
  profile.firstAt = profile.firstAt === null ? at : Math.min(profile.firstAt, at);
  profile.lastAt = profile.lastAt === null ? at : Math.max(profile.lastAt, at);
}

function toolEntry(profile: DriftProfile, tool: string): ToolDriftCounts {
  let name = tool;
  if (!Object.hasOwn(profile.tools, name) && Object.keys(profile.tools).length >= MAX_TOOLS) name = '*';
  let entry = own(profile.tools, name);
  if (!entry) {
    entry = { pairs: 0, kinds: dict(), choseInstead: dict(), formatShifts: dict(), fields: dict() };
    profile.tools[name] = entry;
  }
  return entry;
}

function fieldEntry(tool: ToolDriftCounts, path: string): FieldDriftCounts {
  let key = path;
  if (!Object.hasOwn(tool.fields, key) && Object.keys(tool.fields).length >= MAX_FIELDS) key = '*';
  let entry = own(tool.fields, key);
  if (!entry) {
    entry = { missing: 0, added: 0, renamedTo: dict(), typeChanges: dict() };
    tool.fields[key] = entry;
  }
  return entry;
}

function recordFinding(profile: DriftProfile, f: DriftFinding): void {
  if (f.kind === 'format_shift' && f.tool === null) {
    bump(profile.textFormatShifts, `${f.from}->${f.to}`);
    return;
  }
  const tool = toolEntry(profile, f.tool ?? '*');
  switch (f.kind) {
    case 'tool_changed':
      bump(tool.choseInstead, f.to);
      return;
    case 'format_shift':
      bump(tool.formatShifts, `${f.from}->${f.to}`);
      return;
    case 'field_missing':
      fieldEntry(tool, f.path).missing++;
      return;
    case 'field_added':
      fieldEntry(tool, f.path).added++;
      return;
    case 'field_renamed':
      bump(fieldEntry(tool, f.path).renamedTo, f.to);
      return;
    case 'type_changed':
      bump(fieldEntry(tool, f.path).typeChanges, `${f.from}->${f.to}`);
      return;
    case 'call_missing':
    case 'call_added':
      return;
  }
}

/** Adds one shadow pair's comparison (mutates and returns `profile`). */
export function recordPair(profile: DriftProfile, comparison: PairComparison, at: number): DriftProfile {
  touch(profile, at);
  profile.pairs++;
  if (comparison.findings.length > 0) profile.pairsWithDrift++;
  for (const tool of new Set([...comparison.stableTools, ...comparison.candidateTools]))
    toolEntry(profile, tool).pairs++;
  const kinds = new Set<DriftKind>();
  const toolKinds = new Set<string>();
  for (const f of comparison.findings) {
    kinds.add(f.kind);
    if (f.tool !== null) {
      const k = `${f.tool}\u0000${f.kind}`;
      if (!toolKinds.has(k)) {
        toolKinds.add(k);
        bump(toolEntry(profile, f.tool).kinds, f.kind);
      }
    }
    recordFinding(profile, f);
  }
  for (const k of kinds) bump(profile.kinds, k);
  return profile;
}

/** Adds one response of a live cohort (mutates and returns `profile`). */
export function recordCohortResponse(
  profile: DriftProfile,
  cohort: 'control' | 'canary',
  response: ObservedResponse,
  at: number,
): DriftProfile {
  touch(profile, at);
  observeResponse(profile.cohorts[cohort], response);
  return profile;
}

function mergeField(a: FieldDriftCounts, b: FieldDriftCounts): FieldDriftCounts {
  return {
    missing: a.missing + b.missing,
    added: a.added + b.added,
    renamedTo: mergeCounts(a.renamedTo, b.renamedTo),
    typeChanges: mergeCounts(a.typeChanges, b.typeChanges),
  };
}

function mergeTool(a: ToolDriftCounts, b: ToolDriftCounts): ToolDriftCounts {
  return {
    pairs: a.pairs + b.pairs,
    kinds: mergeCounts(a.kinds, b.kinds),
    choseInstead: mergeCounts(a.choseInstead, b.choseInstead),
    formatShifts: mergeCounts(a.formatShifts, b.formatShifts),
    fields: mergeRecords(a.fields, b.fields, mergeField),
  };
}

function minOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

function maxOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

/** Pure, associative and commutative; both must describe the same tenant and version pair. */
export function mergeDriftProfiles(a: DriftProfile, b: DriftProfile): DriftProfile {
  if (
    a.tenantId !== b.tenantId ||
    a.stableVersionId !== b.stableVersionId ||
    a.candidateVersionId !== b.candidateVersionId
  ) {
    throw new Error(
      `cannot merge drift profiles of ${a.tenantId} ${a.stableVersionId}->${a.candidateVersionId} and ${b.tenantId} ${b.stableVersionId}->${b.candidateVersionId}`,
    );
  }
  return {
    format: DRIFT_PROFILE_FORMAT,
    tenantId: a.tenantId,
    stableVersionId: a.stableVersionId,
    candidateVersionId: a.candidateVersionId,
    firstAt: minOf(a.firstAt, b.firstAt),
    lastAt: maxOf(a.lastAt, b.lastAt),
    pairs: a.pairs + b.pairs,
    pairsWithDrift: a.pairsWithDrift + b.pairsWithDrift,
    kinds: mergeCounts(a.kinds, b.kinds),
    textFormatShifts: mergeCounts(a.textFormatShifts, b.textFormatShifts),
    tools: mergeRecords(a.tools, b.tools, mergeTool),
    cohorts: {
      control: mergeShapeStats(a.cohorts.control, b.cohorts.control),
      canary: mergeShapeStats(a.cohorts.canary, b.cohorts.canary),
    },
  };
}

export interface DriftRates {
  pairs: number;
  /** Share of pairs with any drift. */
  drift: number;
  kinds: Record<DriftKind, number>;
  tools: Record<string, { pairs: number; kinds: Record<DriftKind, number> }>;
}

function ratesOf(counts: Record<string, number>, n: number): Record<DriftKind, number> {
  const out = {} as Record<DriftKind, number>;
  for (const k of DRIFT_KINDS) out[k] = n > 0 ? countOf(counts, k) / n : 0;
  return out;
}

/** Rates per drift kind, overall and per tool (each over the pairs it is about). */
export function driftRates(profile: DriftProfile): DriftRates {
  const tools = dict<{ pairs: number; kinds: Record<DriftKind, number> }>();
  for (const [name, t] of Object.entries(profile.tools))
    tools[name] = { pairs: t.pairs, kinds: ratesOf(t.kinds, t.pairs) };
  return {
    pairs: profile.pairs,
    drift: profile.pairs > 0 ? profile.pairsWithDrift / profile.pairs : 0,
    kinds: ratesOf(profile.kinds, profile.pairs),
    tools,
  };
}

/** Reads a stored profile back (from JSON.parse), checking its shape; throws naming what is wrong. */
export function parseDriftProfile(value: unknown): DriftProfile {
  const validate = compileSchema(DriftProfile, '/driftProfile');
  if (!validate(value)) {
    const first = toViolations(validate.errors, value, DriftProfile)[0];
    throw new Error(
      `not a drift profile: ${first ? `${first.path || '/'} expected ${first.expected}, got ${first.got}` : ''}`,
    );
  }
  // Prototype-free records, so recording into a profile read back from storage stays safe.
  return toDicts(value) as DriftProfile;
}
