import { describe, expect, it } from 'vitest';
import { acceptedValueProblems, canonicalJson, extractJson, matchesAny, similarity } from './text-checks.js';

describe('extractJson', () => {
  it('finds the first JSON object or array in prose and code fences, strings respected', () => {
    expect(extractJson('Sure! ```json\n{"a": "}", "b": [1, 2]}\n``` done')).toEqual({
      found: true,
      value: { a: '}', b: [1, 2] },
    });
    expect(extractJson('list: [1, {"x": 2}] and {"y": 1}')).toEqual({ found: true, value: [1, { x: 2 }] });
    expect(extractJson('{not json} then {"ok": true}')).toEqual({ found: true, value: { ok: true } });
    expect(extractJson('no json here {')).toEqual({ found: false });
  });
});

describe('similarity', () => {
  it('is word-overlap F1: 1 for the same words in any order and case, 0 for none shared', () => {
    expect(similarity('The order ships Monday', 'monday the ORDER ships')).toBe(1);
    expect(similarity('alpha beta', 'gamma delta')).toBe(0);
    expect(similarity('', '')).toBe(1);
    expect(similarity('a b c d', 'a b')).toBeCloseTo(2 / 3);
  });
});

describe('BFCL accepted values', () => {
  it('compares strings loosely (case, spaces, punctuation) and numbers exactly', () => {
    expect(matchesAny('New York, NY', ['new york ny'])).toBe(true);
    expect(matchesAny(5, [5.0])).toBe(true);
    expect(matchesAny(5, ['5'])).toBe(false);
    expect(matchesAny('x', [''])).toBe(false);
  });

  it('checks nested dicts and lists of dicts per key, "" meaning the key may be left out', () => {
    const accepted = {
      body: [{ mode: ['', 'COOL'], temp: [20, 21] }],
      rows: [[{ n: ['a', 'A'] }, { n: ['b'] }]],
    };
    expect(acceptedValueProblems({ body: { temp: 21 }, rows: [{ n: 'A' }, { n: 'b' }] }, accepted)).toEqual(
      [],
    );
    expect(
      acceptedValueProblems({ body: { temp: 21, extra: 1 }, rows: [{ n: 'A' }, { n: 'b' }] }, accepted),
    ).toEqual([
      'argument \'body\': got {"temp":21,"extra":1}, accepted [{"mode":["","COOL"],"temp":[20,21]}]',
    ]);
  });

  it('names missing, wrong and unexpected arguments', () => {
    expect(acceptedValueProblems({ b: 2, c: 3 }, { a: [1], b: [1, 3], d: ['', 4] })).toEqual([
      "argument 'a' is missing",
      "argument 'b': got 2, accepted [1,3]",
      "unexpected argument 'c'",
    ]);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 1, x: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"x":2,"y":1}]},"b":1}',
    );
  });
});
