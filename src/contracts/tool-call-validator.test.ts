import { describe, expect, it } from 'vitest';
import { clearCompiledContracts, compiledContract, compiledContractCount } from './compiled-contracts.js';
import { findFencedJson } from './fenced-json.js';
import { contractMap, makeContract, toolContract } from './test-support/contract-fixtures.js';
import { validateToolCall } from './tool-call-validator.js';

const weather = toolContract('get_weather', {
  type: 'object',
  properties: {
    city: { type: 'string' },
    days: { type: 'integer', minimum: 1 },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    at: { type: 'object', properties: { lat: { type: 'number' } }, required: ['lat'] },
  },
  required: ['city'],
  additionalProperties: false,
});
const format = makeContract('summary', { kind: 'format_regex', pattern: '^OK' });
const contracts = contractMap([weather, format]);

describe('validateToolCall', () => {
  it('accepts a valid OpenAI call (JSON text) and a valid Anthropic call (object)', () => {
    const text = validateToolCall(contracts, {
      name: 'get_weather',
      argumentsText: '{"city":"Paris","days":3}',
      id: 'c1',
    });
    expect(text).toMatchObject({
      valid: true,
      tool: 'get_weather',
      callId: 'c1',
      arguments: { city: 'Paris', days: 3 },
    });
    const obj = validateToolCall(contracts, { name: 'get_weather', input: { city: 'Paris' } });
    expect(obj.valid).toBe(true);
  });

  it('reports an unknown tool with the known tool names (format contracts are not tools)', () => {
    expect(validateToolCall(contracts, { name: 'summary', argumentsText: '{}' })).toEqual({
      valid: false,
      kind: 'unknown_tool',
      tool: 'summary',
      callId: null,
      knownTools: ['get_weather'],
    });
  });

  it('tells markdown-fenced JSON apart from invalid JSON, empty and missing arguments', () => {
    const fenced = validateToolCall(contracts, {
      name: 'get_weather',
      argumentsText: '```json\n{"city":"Paris"}\n```',
    });
    expect(fenced).toMatchObject({
      kind: 'unparsable_arguments',
      reason: 'json_in_markdown',
      fenced: { city: 'Paris' },
    });
    const bad = validateToolCall(contracts, { name: 'get_weather', argumentsText: "{'city': 'Paris'}" });
    expect(bad).toMatchObject({ kind: 'unparsable_arguments', reason: 'invalid_json' });
    expect(validateToolCall(contracts, { name: 'get_weather', argumentsText: ' ' })).toMatchObject({
      reason: 'empty',
    });
    expect(validateToolCall(contracts, { name: 'get_weather' })).toMatchObject({ reason: 'missing' });
  });

  it('lists violations with JSON pointers, keyword, expected and got', () => {
    const out = validateToolCall(contracts, {
      name: 'get_weather',
      argumentsText: JSON.stringify({ town: 'Paris', days: '3', unit: 'kelvin', at: {} }),
    });
    expect(out.valid).toBe(false);
    if (out.valid || out.kind !== 'schema_violation') throw new Error('expected a schema violation');
    expect(out.violations).toEqual(
      expect.arrayContaining([
        { path: '/city', keyword: 'required', expected: 'a value (required property)', got: 'missing' },
        {
          path: '/town',
          keyword: 'additionalProperties',
          expected: 'no such property (allowed: city, days, unit, at)',
          got: 'string "Paris"',
        },
        { path: '/days', keyword: 'type', expected: 'integer', got: 'string "3"' },
        {
          path: '/unit',
          keyword: 'enum',
          expected: 'one of ["celsius","fahrenheit"]',
          got: 'string "kelvin"',
        },
        { path: '/at/lat', keyword: 'required', expected: 'a value (required property)', got: 'missing' },
      ]),
    );
  });

  it('rejects arguments that are not an object, whatever the schema says', () => {
    const loose = contractMap([toolContract('anything', {})]);
    const out = validateToolCall(loose, { name: 'anything', argumentsText: '[1,2]' });
    expect(out).toMatchObject({
      kind: 'schema_violation',
      violations: [{ path: '', keyword: 'type', expected: 'object', got: 'array [1,2]' }],
    });
  });

  it('folds anyOf branch errors into one line that names the allowed forms', () => {
    const c = contractMap([
      toolContract('pick', {
        type: 'object',
        properties: {
          v: { anyOf: [{ type: 'string' }, { type: 'object', properties: { x: { type: 'number' } } }] },
        },
      }),
    ]);
    const out = validateToolCall(c, { name: 'pick', input: { v: { x: 'no' } } });
    expect(out).toMatchObject({
      kind: 'schema_violation',
      violations: [
        { path: '/v', keyword: 'anyOf', expected: 'one of: string | object', got: 'object {"x":"no"}' },
      ],
    });
  });

  it('escapes JSON pointer tokens', () => {
    const c = contractMap([
      toolContract('slash', { type: 'object', properties: { 'a/b': { type: 'string' } } }),
    ]);
    const out = validateToolCall(c, { name: 'slash', input: { 'a/b': 1 } });
    expect(out).toMatchObject({ violations: [{ path: '/a~1b', got: 'integer 1' }] });
  });
});

describe('compiled contract cache', () => {
  it('compiles once per contract version and recompiles on a new version or a re-created contract', () => {
    clearCompiledContracts();
    const v1 = toolContract('t', { type: 'object', properties: { a: { type: 'string' } } });
    const first = compiledContract(v1);
    expect(compiledContract({ ...v1 })).toBe(first);
    const v2 = { ...v1, version: 2, definition: { kind: 'tool' as const, parameters: { type: 'object' } } };
    const second = compiledContract(v2);
    expect(second).not.toBe(first);
    const recreated = { ...v1, updatedAt: '2026-02-01T00:00:00.000Z' };
    expect(compiledContract(recreated)).not.toBe(second);
    expect(compiledContractCount()).toBe(1);
  });
});

describe('findFencedJson', () => {
  it('finds fenced JSON with or without a language and with prose around it', () => {
    expect(findFencedJson('```json\n{"a":1}\n```')).toEqual({
      value: { a: 1 },
      language: 'json',
      wholeText: true,
    });
    expect(findFencedJson('```\n[1]\n```')).toEqual({ value: [1], language: '', wholeText: true });
    expect(findFencedJson('Here you go:\n```JSON\n{"a":1}\n```\nDone.')).toMatchObject({ wholeText: false });
    expect(findFencedJson('```{"a":1}```')).toMatchObject({ value: { a: 1 } });
    expect(findFencedJson('```python\nprint(1)\n```')).toBeUndefined();
    expect(findFencedJson('{"a":1}')).toBeUndefined();
  });
});
