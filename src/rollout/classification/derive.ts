import type { Contract } from '../../registry/types.js';
import type { Level, MetricStep, ToolComplexityPolicy, ToolMetric } from './policy.js';

/**
 * Derives two risk profile factors from what a tenant registered, instead of trusting a hand-set
 * level: tool-call complexity from its tool contracts (how many tools, how deeply nested, how
 * many required fields, how many enumerated values a model must hit exactly) and output format
 * rigidity from its format contracts (a JSON Schema is rigid, a regex less so, none not at all).
 */

/** What one tool's argument schema asks of a model. */
export interface ToolSchemaMetrics {
  name: string;
  /** Nesting depth of objects: a flat argument object is 1, an object inside it 2, and so on. */
  depth: number;
  /** Required properties, summed over every object in the schema. */
  required: number;
  /** Schema nodes with `enum` or `const`: values the model must reproduce exactly. */
  enums: number;
  /** Properties, summed over every object in the schema. */
  properties: number;
}

type Schema = Record<string, unknown>;
const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deeper than this is not measured further (and no real tool schema gets near it). */
const MAX_DEPTH = 32;

/**
 * Measures one JSON Schema. Local `$ref`s (`#/$defs/...`, `#/definitions/...`) are followed once
 * per path, so a recursive schema is measured to its first repetition rather than forever.
 */
export function schemaMetrics(name: string, root: Schema): ToolSchemaMetrics {
  const totals = { required: 0, enums: 0, properties: 0 };
  const counted = new Set<Schema>();

  const resolve = (ref: string): Schema | undefined => {
    const m = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
    if (!m?.[1] || !m[2]) return undefined;
    const defs = root[m[1]];
    const target = isSchema(defs) ? defs[decodeURIComponent(m[2])] : undefined;
    return isSchema(target) ? target : undefined;
  };

  /** The object depth below `node` (0 for a scalar); counts each node's fields once. */
  const walk = (node: unknown, path: ReadonlySet<Schema>, level: number): number => {
    if (!isSchema(node) || path.has(node) || level > MAX_DEPTH) return 0;
    const inPath = new Set(path).add(node);
    if (!counted.has(node)) {
      counted.add(node);
      if (Array.isArray(node.required)) totals.required += node.required.length;
      if (Array.isArray(node.enum) || 'const' in node) totals.enums += 1;
      if (isSchema(node.properties)) totals.properties += Object.keys(node.properties).length;
    }
    let below = 0;
    const visit = (child: unknown, nests: boolean) => {
      const d = walk(child, inPath, level + (nests ? 1 : 0));
      below = Math.max(below, d);
    };
    if (typeof node.$ref === 'string') visit(resolve(node.$ref), false);
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
      const branches = node[key];
      if (Array.isArray(branches)) for (const b of branches) visit(b, false);
    }
    const items = node.items;
    if (Array.isArray(items)) for (const i of items) visit(i, false);
    else visit(items, false);
    if (Array.isArray(node.prefixItems)) for (const i of node.prefixItems) visit(i, false);

    const isObject = node.type === 'object' || isSchema(node.properties);
    if (!isObject) return below;
    let children = 0;
    const nested = (child: unknown) => {
      children = Math.max(children, walk(child, inPath, level + 1));
    };
    if (isSchema(node.properties)) for (const p of Object.values(node.properties)) nested(p);
    if (isSchema(node.additionalProperties)) nested(node.additionalProperties);
    if (isSchema(node.patternProperties)) for (const p of Object.values(node.patternProperties)) nested(p);
    return Math.max(below, 1 + children);
  };

  const depth = walk(root, new Set(), 0);
  return { name, depth, ...totals };
}

export interface ToolComplexityDerivation {
  level: Level;
  points: number;
  metrics: Record<ToolMetric, number>;
  /** Points per metric, for the explanation. */
  pointsBy: Record<ToolMetric, number>;
  tools: ToolSchemaMetrics[];
  why: string;
}

const stepPoints = (value: number, steps: readonly MetricStep[]): number =>
  steps.reduce((p, s) => (value >= s.atLeast ? s.points : p), 0);

/**
 * Tool-call complexity from tool contracts. A tool registered against several model versions
 * counts once, at its most demanding schema. Metrics: the number of tools, the deepest schema,
 * the most required fields of one tool, and all enumerated values; each earns points by the
 * policy's steps, and the total sets the level (no tools at all: low).
 */
export function deriveToolCallComplexity(
  contracts: readonly Contract[],
  policy: ToolComplexityPolicy,
): ToolComplexityDerivation {
  const byName = new Map<string, ToolSchemaMetrics>();
  for (const c of contracts) {
    if (c.definition.kind !== 'tool') continue;
    const m = schemaMetrics(c.name, c.definition.parameters);
    const seen = byName.get(c.name);
    if (
      !seen ||
      m.depth > seen.depth ||
      (m.depth === seen.depth && m.required + m.enums > seen.required + seen.enums)
    ) {
      byName.set(c.name, m);
    }
  }
  const tools = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  const metrics: Record<ToolMetric, number> = {
    toolCount: tools.length,
    maxDepth: Math.max(0, ...tools.map((t) => t.depth)),
    maxRequired: Math.max(0, ...tools.map((t) => t.required)),
    enumCount: tools.reduce((n, t) => n + t.enums, 0),
  };
  const pointsBy: Record<ToolMetric, number> = {
    toolCount: stepPoints(metrics.toolCount, policy.steps.toolCount),
    maxDepth: stepPoints(metrics.maxDepth, policy.steps.maxDepth),
    maxRequired: stepPoints(metrics.maxRequired, policy.steps.maxRequired),
    enumCount: stepPoints(metrics.enumCount, policy.steps.enumCount),
  };
  if (tools.length === 0) {
    return { level: 'low', points: 0, metrics, pointsBy, tools, why: 'no tool contracts' };
  }
  const points = Object.values(pointsBy).reduce((a, b) => a + b, 0);
  const level: Level = points >= policy.highFrom ? 'high' : points >= policy.mediumFrom ? 'medium' : 'low';
  const why =
    `${metrics.toolCount} tool${metrics.toolCount === 1 ? '' : 's'} (+${pointsBy.toolCount}), ` +
    `depth ${metrics.maxDepth} (+${pointsBy.maxDepth}), ` +
    `up to ${metrics.maxRequired} required (+${pointsBy.maxRequired}), ` +
    `${metrics.enumCount} enum${metrics.enumCount === 1 ? '' : 's'} (+${pointsBy.enumCount}): ` +
    `${points} points`;
  return { level, points, metrics, pointsBy, tools, why };
}

export interface FormatRigidityDerivation {
  level: Level;
  jsonSchema: string[];
  regex: string[];
  why: string;
}

/**
 * Output format rigidity from format contracts: any JSON Schema format contract makes it high
 * (downstream code parses the output), else any regex contract medium, else low.
 */
export function deriveOutputFormatRigidity(contracts: readonly Contract[]): FormatRigidityDerivation {
  const names = (kind: string) =>
    [...new Set(contracts.filter((c) => c.definition.kind === kind).map((c) => c.name))].sort();
  const jsonSchema = names('format_json_schema');
  const regex = names('format_regex');
  if (jsonSchema.length > 0) {
    return { level: 'high', jsonSchema, regex, why: `JSON Schema format contract: ${jsonSchema.join(', ')}` };
  }
  if (regex.length > 0) {
    return { level: 'medium', jsonSchema, regex, why: `regex format contract: ${regex.join(', ')}` };
  }
  return { level: 'low', jsonSchema, regex, why: 'no format contracts' };
}
