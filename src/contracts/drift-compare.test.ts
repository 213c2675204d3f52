import { describe, expect, it } from 'vitest';
import { classifyTextFormat, compareResponses, compareToolCalls, valueRelation } from './drift-compare.js';
import { wrapInFence } from './fenced-json.js';

const call = (name: string, args: unknown) => ({ name, argumentsText: JSON.stringify(args) });
const stable = call('get_weather', {
  location: 'Paris, FR',
  days: 3,
  unit: 'celsius',
  opts: { hourly: true },
});

describe('compareToolCalls', () => {
  it('finds nothing when only values differ', () => {
    expect(
      compareToolCalls(
        stable,
        call('get_weather', { location: 'Paris', days: 5, unit: 'c', opts: { hourly: false } }),
      ),
    ).toEqual([]);
  });

  it('reports a rename as a rename, with its score, even with a changed value type', () => {
    const found = compareToolCalls(
      stable,
      call('get_weather', { place: 'Paris, FR', days: '3', unit: 'celsius', opts: {} }),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'field_renamed',
          path: '/location',
          to: '/place',
          nameReason: 'synonym',
          value: 'equal',
        }),
        { kind: 'type_changed', tool: 'get_weather', path: '/days', from: 'number', to: 'string' },
        { kind: 'field_missing', tool: 'get_weather', path: '/opts/hourly' },
      ]),
    );
    expect(found.some((f) => f.kind === 'field_missing' && f.path === '/location')).toBe(false);
    const retyped = compareToolCalls(call('t', { count: 12 }), call('t', { quantity: '12' }));
    expect(retyped).toEqual([
      expect.objectContaining({
        kind: 'field_renamed',
        path: '/count',
        to: '/quantity',
        value: 'compatible',
      }),
      { kind: 'type_changed', tool: 't', path: '/quantity', from: 'number', to: 'string' },
    ]);
  });

  it('keeps unrelated missing and added fields apart', () => {
    const found = compareToolCalls(call('t', { unit: 'celsius' }), call('t', { verbose: true }));
    expect(found).toEqual([
      { kind: 'field_missing', tool: 't', path: '/unit' },
      { kind: 'field_added', tool: 't', path: '/verbose' },
    ]);
  });

  it('reports a format shift and still compares the fenced arguments', () => {
    const fenced = { name: 'get_weather', argumentsText: wrapInFence(stable.argumentsText) };
    expect(compareToolCalls(stable, fenced)).toEqual([
      { kind: 'format_shift', tool: 'get_weather', from: 'json', to: 'json_in_markdown' },
    ]);
    expect(
      compareToolCalls(stable, { name: 'get_weather', input: JSON.parse(stable.argumentsText) }),
    ).toEqual([]);
  });
});

describe('compareResponses', () => {
  it('pairs calls by tool, then reports changed, missing and added calls', () => {
    const a = { toolCalls: [call('search', { q: 'x' }), call('book', { id: 1 }), call('pay', {})] };
    const b = { toolCalls: [call('book', { id: 1 }), call('lookup', { q: 'x' })] };
    const out = compareResponses(a, b);
    expect(out.findings).toEqual([
      { kind: 'tool_changed', tool: 'search', to: 'lookup' },
      { kind: 'call_missing', tool: 'pay' },
    ]);
    expect(out.stableTools).toEqual(['search', 'book', 'pay']);
    expect(compareResponses({ toolCalls: [] }, { toolCalls: [call('x', {})] }).findings).toEqual([
      { kind: 'call_added', tool: 'x' },
    ]);
  });

  it('reports text format shifts', () => {
    const out = compareResponses(
      { toolCalls: [], text: '{"a":1}' },
      { toolCalls: [], text: '```json\n{"a":1}\n```' },
    );
    expect(out.findings).toEqual([
      { kind: 'format_shift', tool: null, from: 'json', to: 'json_in_markdown' },
    ]);
  });
});

describe('helpers', () => {
  it('classifies text formats', () => {
    expect(classifyTextFormat(null)).toBe('none');
    expect(classifyTextFormat(' [1,2] ')).toBe('json');
    expect(classifyTextFormat('Sure:\n```json\n{}\n```')).toBe('json_in_markdown');
    expect(classifyTextFormat('# Title\n- item')).toBe('markdown');
    expect(classifyTextFormat('Plain answer.')).toBe('text');
  });

  it('relates values', () => {
    expect(valueRelation({ a: 1 }, { a: 1 })).toBe('equal');
    expect(valueRelation('42', 42)).toBe('compatible');
    expect(valueRelation(['x'], 'X ')).toBe('compatible');
    expect(valueRelation('a', 'b')).toBe('same_type');
    expect(valueRelation('a', 1)).toBe('different');
  });
});
