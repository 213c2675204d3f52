import { describe, expect, it } from 'vitest';
import { coerceArguments, exactNumber } from './coercion.js';

const schema = {
  type: 'object',
  properties: {
    count: { type: 'integer' },
    ratio: { type: 'number' },
    zip: { type: 'string' },
    verbose: { type: 'boolean' },
    tags: { type: 'array', items: { type: 'string' } },
    ids: { type: 'array', items: { type: 'integer' } },
    maybe: { type: ['integer', 'null'] },
    nested: { $ref: '#/definitions/point' },
    either: { anyOf: [{ type: 'integer' }, { type: 'boolean' }] },
  },
  required: ['count'],
  additionalProperties: false,
  definitions: { point: { type: 'object', properties: { x: { type: 'number' } } } },
};

describe('exactNumber', () => {
  it('accepts only texts that a number prints back exactly', () => {
    expect(exactNumber('42')).toBe(42);
    expect(exactNumber('-3.5')).toBe(-3.5);
    expect(exactNumber('1e+21')).toBe(1e21);
    for (const t of [
      '',
      ' 42',
      '42 ',
      '42abc',
      '1e400',
      '1.0',
      '0x10',
      '+5',
      '-0',
      '01',
      'NaN',
      'Infinity',
      '1_000',
    ]) {
      expect(exactNumber(t), t).toBeUndefined();
    }
  });
});

describe('coerceArguments', () => {
  it('returns valid arguments unchanged (same reference) with no coercions', () => {
    const args = { count: 1, tags: ['a'] };
    const out = coerceArguments(schema, args);
    expect(out).toEqual({ status: 'valid', arguments: args, coercions: [] });
    if (out.status === 'valid') expect(out.arguments).toBe(args);
  });

  it('repairs the minor drifts and logs each change', () => {
    const before = {
      count: '42',
      ratio: '0.5',
      zip: 94103,
      verbose: 'false',
      tags: 'urgent',
      ids: '7',
      maybe: '3',
      nested: { x: '1.5' },
    };
    const copy = structuredClone(before);
    const out = coerceArguments(schema, before);
    expect(out.status).toBe('coerced');
    if (out.status !== 'coerced') return;
    expect(out.after).toEqual({
      count: 42,
      ratio: 0.5,
      zip: '94103',
      verbose: false,
      tags: ['urgent'],
      ids: [7],
      maybe: 3,
      nested: { x: 1.5 },
    });
    expect(out.coercions).toEqual([
      { path: '/count', kind: 'string_to_integer', from: '42', to: 42 },
      { path: '/ratio', kind: 'string_to_number', from: '0.5', to: 0.5 },
      { path: '/zip', kind: 'number_to_string', from: 94103, to: '94103' },
      { path: '/verbose', kind: 'string_to_boolean', from: 'false', to: false },
      { path: '/tags', kind: 'wrap_in_array', from: 'urgent', to: ['urgent'] },
      { path: '/ids', kind: 'wrap_in_array', from: '7', to: ['7'] },
      { path: '/ids/0', kind: 'string_to_integer', from: '7', to: 7 },
      { path: '/maybe', kind: 'string_to_integer', from: '3', to: 3 },
      { path: '/nested/x', kind: 'string_to_number', from: '1.5', to: 1.5 },
    ]);
    expect(before).toEqual(copy);
    expect(out.before).toBe(before);
  });

  it('never repairs null, a missing argument, a rename, an extra property or a non-exact number', () => {
    for (const args of [
      { count: null },
      {},
      { Count: 1 },
      { count: 1, extra: true },
      { count: '42abc' },
      { count: '4.5' },
      { count: '' },
      { count: '1e400' },
      { count: 1, verbose: 'yes' },
      { count: 1, verbose: 'True' },
    ]) {
      const out = coerceArguments(schema, args);
      expect(out.status, JSON.stringify(args)).toBe('not_coercible');
    }
  });

  it('returns nothing partial: one repairable and one unrepairable drift leave the call invalid', () => {
    const out = coerceArguments(schema, { count: '42', extra: 1 });
    expect(out.status).toBe('not_coercible');
    if (out.status === 'not_coercible') {
      expect(out.violations.map((v) => `${v.path} ${v.keyword}`).sort()).toEqual([
        '/count type',
        '/extra additionalProperties',
      ]);
      expect(out).not.toHaveProperty('after');
    }
  });

  it('does not guess below anyOf, and does not wrap the root', () => {
    expect(coerceArguments(schema, { count: 1, either: '5' }).status).toBe('not_coercible');
    expect(coerceArguments({ type: 'array', items: { type: 'integer' } }, 5).status).toBe('not_coercible');
  });

  it('is idempotent', () => {
    const out = coerceArguments(schema, { count: '7', tags: 'x' });
    if (out.status !== 'coerced') throw new Error('expected a repair');
    expect(coerceArguments(schema, out.after)).toEqual({
      status: 'valid',
      arguments: out.after,
      coercions: [],
    });
  });
});
