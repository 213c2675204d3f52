import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BfclCase, bfclToJsonSchema, loadBfclCases, toToolName } from '../../contracts/bfcl-import.js';
import type { Contract, ContractDefinition } from '../../registry/types.js';
import { BFCL_DIR } from '../../test-support/bfcl.js';
import { deriveOutputFormatRigidity, deriveToolCallComplexity, schemaMetrics } from './derive.js';
import { DEFAULT_CLASSIFICATION_POLICY } from './policy.js';

const POLICY = DEFAULT_CLASSIFICATION_POLICY.toolComplexity;

function contract(name: string, definition: ContractDefinition, modelVersionId = 'gpt-x-2026-01'): Contract {
  return {
    id: `acme:${modelVersionId}:${name}`,
    tenantId: 'acme',
    modelVersionId,
    name,
    definition,
    version: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

/** Every function of the given BFCL cases as a tool contract, as a tenant would register them. */
function toolContracts(cases: readonly BfclCase[]): Contract[] {
  return cases.flatMap((c) =>
    c.function.map((f) =>
      contract(toToolName(f.name), {
        kind: 'tool',
        description: f.description,
        parameters: bfclToJsonSchema(f.parameters, { closed: true }, f.name),
      }),
    ),
  );
}

let simple: Map<string, BfclCase>;
let multiple: BfclCase[];
let live: Map<string, BfclCase>;
beforeAll(async () => {
  const load = (file: string) => loadBfclCases(join(BFCL_DIR, `${file}.json`));
  simple = new Map((await load('BFCL_v4_simple_python')).map((c) => [c.id, c]));
  multiple = await load('BFCL_v4_multiple');
  live = new Map((await load('BFCL_v4_live_simple')).map((c) => [c.id, c]));
});

const caseOf = (cases: Map<string, BfclCase>, id: string): BfclCase => {
  const c = cases.get(id);
  if (!c) throw new Error(`BFCL case ${id} is missing`);
  return c;
};

describe('schema metrics on real BFCL function schemas', () => {
  it('a flat schema: calculate_triangle_area (simple_python_0)', () => {
    const [c] = toolContracts([caseOf(simple, 'simple_python_0')]);
    if (c?.definition.kind !== 'tool') throw new Error('expected a tool');
    // base, height (required), unit (optional): one level, two required, no enums.
    expect(schemaMetrics(c.name, c.definition.parameters)).toEqual({
      name: 'calculate_triangle_area',
      depth: 1,
      required: 2,
      enums: 0,
      properties: 3,
    });
  });

  it('a nested object: db_fetch_records (simple_python_89)', () => {
    const [c] = toolContracts([caseOf(simple, 'simple_python_89')]);
    if (c?.definition.kind !== 'tool') throw new Error('expected a tool');
    // database_name, table_name, conditions {department, school}, fetch_limit.
    expect(schemaMetrics(c.name, c.definition.parameters)).toEqual({
      name: 'db_fetch_records',
      depth: 2,
      required: 3,
      enums: 0,
      properties: 6,
    });
  });

  it('enums inside a nested object: ThinQ_Connect (live_simple_44-18-0)', () => {
    const [c] = toolContracts([caseOf(live, 'live_simple_44-18-0')]);
    if (c?.definition.kind !== 'tool') throw new Error('expected a tool');
    // body {currentJobMode, windStrength, airCleanOperationMode, airConOperationMode: enums; 4 more}.
    expect(schemaMetrics(c.name, c.definition.parameters)).toEqual({
      name: 'ThinQ_Connect',
      depth: 2,
      required: 1,
      enums: 4,
      properties: 9,
    });
  });
});

describe('tool-call complexity derived from tool contracts', () => {
  it('one flat tool is low', () => {
    const d = deriveToolCallComplexity(toolContracts([caseOf(simple, 'simple_python_0')]), POLICY);
    expect(d.level).toBe('low');
    expect(d.metrics).toEqual({ toolCount: 1, maxDepth: 1, maxRequired: 2, enumCount: 0 });
    expect(d.points).toBe(0);
  });

  it('one nested tool with enums is medium (depth 2 and 4 enums: 1 point each)', () => {
    const d = deriveToolCallComplexity(toolContracts([caseOf(live, 'live_simple_44-18-0')]), POLICY);
    expect(d.metrics).toEqual({ toolCount: 1, maxDepth: 2, maxRequired: 1, enumCount: 4 });
    expect(d.pointsBy).toEqual({ toolCount: 0, maxDepth: 1, maxRequired: 0, enumCount: 1 });
    expect(d.level).toBe('medium');
    expect(d.why).toContain('depth 2 (+1)');
  });

  it('array item enums count (multiple_80: two tools with two enumerated lists each)', () => {
    const c = multiple.find((x) => x.id === 'multiple_80');
    if (!c) throw new Error('multiple_80 is missing');
    const d = deriveToolCallComplexity(toolContracts([c]), POLICY);
    expect(d.metrics).toEqual({ toolCount: 2, maxDepth: 1, maxRequired: 1, enumCount: 4 });
    expect(d.level).toBe('low');
  });

  it("a large tool set is high: the first 20 'multiple' cases (52 tools)", () => {
    const d = deriveToolCallComplexity(toolContracts(multiple.slice(0, 20)), POLICY);
    expect(d.metrics).toEqual({ toolCount: 52, maxDepth: 2, maxRequired: 5, enumCount: 0 });
    // 52 tools +2, depth 2 +1, 5 required +1: 4 points.
    expect(d.points).toBe(4);
    expect(d.level).toBe('high');
  });

  it('no tool contracts is low, and format contracts are not tools', () => {
    const d = deriveToolCallComplexity(
      [contract('report', { kind: 'format_regex', pattern: '^OK' })],
      POLICY,
    );
    expect(d).toMatchObject({ level: 'low', why: 'no tool contracts', metrics: { toolCount: 0 } });
  });

  it('a tool registered against two versions counts once, at its most demanding schema', () => {
    const flat = {
      kind: 'tool' as const,
      parameters: { type: 'object', properties: { a: { type: 'string' } } },
    };
    const nested = {
      kind: 'tool' as const,
      parameters: {
        type: 'object',
        properties: { a: { type: 'object', properties: { b: { type: 'object', properties: {} } } } },
      },
    };
    const d = deriveToolCallComplexity(
      [contract('t', flat, 'gpt-x-2026-01'), contract('t', nested, 'gpt-x-2026-03')],
      POLICY,
    );
    expect(d.metrics.toolCount).toBe(1);
    expect(d.metrics.maxDepth).toBe(3);
  });

  it('follows local $refs without looping on a recursive schema', () => {
    const m = schemaMetrics('tree', {
      type: 'object',
      required: ['root'],
      properties: { root: { $ref: '#/$defs/node' } },
      $defs: {
        node: {
          type: 'object',
          required: ['label'],
          properties: {
            label: { type: 'string', enum: ['a', 'b'] },
            children: { type: 'array', items: { $ref: '#/$defs/node' } },
          },
        },
      },
    });
    // root object, node, then the node again through children, where the recursion stops.
    expect(m).toMatchObject({ depth: 2, required: 2, enums: 1 });
  });
});

describe('output format rigidity derived from format contracts', () => {
  it('JSON Schema is high, regex medium, none low', () => {
    const json = contract('record', { kind: 'format_json_schema', schema: { type: 'object' } });
    const regex = contract('line', { kind: 'format_regex', pattern: '^[A-Z]+$' });
    expect(deriveOutputFormatRigidity([json, regex]).level).toBe('high');
    expect(deriveOutputFormatRigidity([regex])).toMatchObject({ level: 'medium', regex: ['line'] });
    expect(deriveOutputFormatRigidity([]).level).toBe('low');
  });
});
