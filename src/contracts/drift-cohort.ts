import { countOf, own } from './counts.js';
import { type DriftKind, RENAME_THRESHOLD } from './drift-compare.js';
import type { JsonKind } from './json-shape.js';
import { nameSimilarity } from './name-similarity.js';
import { type FieldShape, type ShapeStats, sketchSimilarity, type ToolShape } from './shape-stats.js';

/**
 * Drift between cohorts (canary vs control over a window) when there are no pairs to compare:
 * the two cohorts' ShapeStats are compared tool by tool and field by field. The z-scores here
 * are fixed-sample two-proportion tests that rank and filter findings for a report; the rollback controller makes its decisions with its own sequential
 * tests on the same counts, since checking a fixed-sample test continuously inflates false alarms.
 */

/** Two-proportion z-score of x2/n2 against x1/n1 (pooled); 0 when either sample is empty. */
export function twoProportionZ(x1: number, n1: number, x2: number, n2: number): number {
  if (n1 <= 0 || n2 <= 0) return 0;
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const p = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  if (se === 0) return p1 === p2 ? 0 : Math.sign(p2 - p1) * Number.POSITIVE_INFINITY;
  return (p2 - p1) / se;
}

export interface CohortCompareOptions {
  /** Fewest calls of a tool (or responses) in each cohort before it is compared; 30 by default. */
  minSamples?: number;
  /** Smallest rate difference reported; 0.05 by default. */
  minEffect?: number;
  /** Smallest |z| reported; 3 by default. */
  zThreshold?: number;
}

export interface CohortFinding {
  kind: DriftKind;
  /** The tool, or null for text format shifts. */
  tool: string | null;
  path?: string;
  /** For field_renamed: the new path; for tool_changed: the tool now chosen more (or less) often. */
  to?: string;
  /** For type_changed / format_shift: the control's dominant type or format. */
  from?: string;
  controlRate: number;
  canaryRate: number;
  z: number;
  score?: number;
}

export interface CohortDriftReport {
  sufficient: boolean;
  control: { responses: number };
  canary: { responses: number };
  toolChoice: {
    /** Total variation distance between the cohorts' tool choice shares (0 same, 1 disjoint). */
    distance: number;
    tools: Array<{ tool: string; controlRate: number; canaryRate: number; z: number }>;
  };
  findings: CohortFinding[];
}

const NO_TOOL = '(no tool call)';

function rate(x: number, n: number): number {
  return n > 0 ? x / n : 0;
}

function dominant(counts: Record<string, number>): string | undefined {
  let best: string | undefined;
  let max = -1;
  for (const [k, v] of Object.entries(counts)) {
    if (v > max) {
      max = v;
      best = k;
    }
  }
  return best;
}

function total(counts: Record<string, number>, except?: string): number {
  let sum = 0;
  for (const [k, v] of Object.entries(counts)) if (k !== except) sum += v;
  return sum;
}

/** Compares the canary cohort's stats with the control cohort's. */
export function compareCohorts(
  control: ShapeStats,
  canary: ShapeStats,
  opts: CohortCompareOptions = {},
): CohortDriftReport {
  const minSamples = opts.minSamples ?? 30;
  const minEffect = opts.minEffect ?? 0.05;
  const zThreshold = opts.zThreshold ?? 3;
  const significant = (c: number, k: number, z: number) =>
    Math.abs(k - c) >= minEffect && Math.abs(z) >= zThreshold;
  const findings: CohortFinding[] = [];
  const sufficient = control.responses >= minSamples && canary.responses >= minSamples;

  const choice = (s: ShapeStats, tool: string) =>
    tool === NO_TOOL ? s.noToolCall : (own(s.tools, tool)?.calls ?? 0);
  const toolNames = [
    ...new Set([...Object.keys(control.tools), ...Object.keys(canary.tools), NO_TOOL]),
  ].sort();
  const tools = toolNames.map((tool) => {
    const c = choice(control, tool);
    const k = choice(canary, tool);
    return {
      tool,
      controlRate: rate(c, control.responses),
      canaryRate: rate(k, canary.responses),
      z: twoProportionZ(c, control.responses, k, canary.responses),
    };
  });
  const distance = tools.reduce((sum, t) => sum + Math.abs(t.canaryRate - t.controlRate), 0) / 2;
  if (sufficient) {
    for (const t of tools) {
      if (t.tool !== NO_TOOL && significant(t.controlRate, t.canaryRate, t.z)) {
        findings.push({ kind: 'tool_changed', ...t });
      }
    }
    const cText = total(control.textFormats, 'none');
    const kText = total(canary.textFormats, 'none');
    if (cText >= minSamples && kText >= minSamples) {
      findings.push(
        ...formatShifts(null, control.textFormats, canary.textFormats, cText, kText, 'none', significant),
      );
    }
    for (const tool of Object.keys(control.tools).sort()) {
      const c = own(control.tools, tool);
      const k = own(canary.tools, tool);
      if (c && k && c.calls >= minSamples && k.calls >= minSamples)
        findings.push(...compareTool(tool, c, k, significant));
    }
  }
  return {
    sufficient,
    control: { responses: control.responses },
    canary: { responses: canary.responses },
    toolChoice: { distance, tools },
    findings,
  };
}

type Significant = (controlRate: number, canaryRate: number, z: number) => boolean;

function formatShifts(
  tool: string | null,
  control: Record<string, number>,
  canary: Record<string, number>,
  cn: number,
  kn: number,
  except: string | undefined,
  significant: Significant,
): CohortFinding[] {
  const out: CohortFinding[] = [];
  const from = dominant(control) ?? 'none';
  for (const format of Object.keys(canary)) {
    if (format === except || format === from) continue;
    const x1 = countOf(control, format);
    const x2 = countOf(canary, format);
    const z = twoProportionZ(x1, cn, x2, kn);
    if (z > 0 && significant(rate(x1, cn), rate(x2, kn), z)) {
      out.push({
        kind: 'format_shift',
        tool,
        from,
        to: format,
        controlRate: rate(x1, cn),
        canaryRate: rate(x2, kn),
        z,
      });
    }
  }
  return out;
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

function leafOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function compareTool(tool: string, c: ToolShape, k: ToolShape, significant: Significant): CohortFinding[] {
  const out: CohortFinding[] = [
    ...formatShifts(tool, c.formats, k.formats, c.calls, k.calls, undefined, significant),
  ];
  const dropped: CohortFinding[] = [];
  const rose: CohortFinding[] = [];
  for (const path of [...new Set([...Object.keys(c.fields), ...Object.keys(k.fields)])].sort()) {
    const cf = own(c.fields, path);
    const kf = own(k.fields, path);
    const cp = cf?.present ?? 0;
    const kp = kf?.present ?? 0;
    const z = twoProportionZ(cp, c.calls, kp, k.calls);
    const controlRate = rate(cp, c.calls);
    const canaryRate = rate(kp, k.calls);
    if (significant(controlRate, canaryRate, z)) {
      (z < 0 ? dropped : rose).push({
        kind: z < 0 ? 'field_missing' : 'field_added',
        tool,
        path,
        controlRate,
        canaryRate,
        z,
      });
    }
    if (cf && kf) out.push(...typeShifts(tool, path, cf, kf, significant));
  }
  // A field that fell out and one that appeared under the same parent may be one renamed field.
  const renamed = new Set<CohortFinding>();
  const pairs: Array<{ d: CohortFinding; r: CohortFinding; score: number }> = [];
  for (const d of dropped) {
    for (const r of rose) {
      if (!d.path || !r.path || parentOf(d.path) !== parentOf(r.path)) continue;
      const name = nameSimilarity(leafOf(d.path), leafOf(r.path));
      const cf = own(c.fields, d.path);
      const kf = own(k.fields, r.path);
      const overlap = cf && kf ? sketchSimilarity(cf.values, kf.values) : 0;
      const sameType = cf && kf && dominant(cf.types) === dominant(kf.types);
      const valueWeight = overlap >= 0.3 ? 0.8 : sameType ? 0.3 : 0;
      const score = 0.6 * name.score + 0.4 * valueWeight;
      if (score >= RENAME_THRESHOLD) pairs.push({ d, r, score: Math.round(score * 1000) / 1000 });
    }
  }
  pairs.sort((x, y) => y.score - x.score);
  for (const { d, r, score } of pairs) {
    if (renamed.has(d) || renamed.has(r)) continue;
    renamed.add(d);
    renamed.add(r);
    out.push({
      kind: 'field_renamed',
      tool,
      ...(d.path === undefined ? {} : { path: d.path }),
      ...(r.path === undefined ? {} : { to: r.path }),
      controlRate: d.controlRate,
      canaryRate: r.canaryRate,
      z: Math.min(Math.abs(d.z), Math.abs(r.z)),
      score,
    });
  }
  for (const f of [...dropped, ...rose]) if (!renamed.has(f)) out.push(f);
  return out;
}

function typeShifts(
  tool: string,
  path: string,
  cf: FieldShape,
  kf: FieldShape,
  significant: Significant,
): CohortFinding[] {
  const out: CohortFinding[] = [];
  const from = dominant(cf.types) as JsonKind | undefined;
  for (const type of Object.keys(kf.types)) {
    if (type === from) continue;
    const x1 = countOf(cf.types, type);
    const x2 = countOf(kf.types, type);
    const z = twoProportionZ(x1, cf.present, x2, kf.present);
    if (z > 0 && significant(rate(x1, cf.present), rate(x2, kf.present), z)) {
      out.push({
        kind: 'type_changed',
        tool,
        path,
        from: from ?? 'none',
        to: type,
        controlRate: rate(x1, cf.present),
        canaryRate: rate(x2, kf.present),
        z,
      });
    }
  }
  return out;
}
