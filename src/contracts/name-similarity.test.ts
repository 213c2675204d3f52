import { describe, expect, it } from 'vitest';
import { renamedKey } from '../simulator/drift.js';
import { nameSimilarity, nameTokens } from './name-similarity.js';
import { internalStringDistance } from './string-distance.js';

describe('string distances', () => {
  it('match the published reference values', () => {
    const { levenshtein, jaroWinkler } = internalStringDistance;
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('flaw', 'lawn')).toBe(2);
    expect(jaroWinkler('MARTHA', 'MARHTA')).toBeCloseTo(0.9611, 4);
    expect(jaroWinkler('DWAYNE', 'DUANE')).toBeCloseTo(0.84, 4);
    expect(jaroWinkler('DIXON', 'DICKSONX')).toBeCloseTo(0.8133, 4);
    expect(jaroWinkler('abc', 'abc')).toBe(1);
    expect(jaroWinkler('abc', 'xyz')).toBe(0);
  });
});

describe('nameSimilarity', () => {
  it('splits every case style into words', () => {
    expect(nameTokens('zipCode')).toEqual(['zip', 'code']);
    expect(nameTokens('HTTPServerURL')).toEqual(['http', 'server', 'url']);
    expect(nameTokens('max-results.v2')).toEqual(['max', 'results', 'v2']);
  });

  it('scores each kind of rename and says which', () => {
    expect(nameSimilarity('zip_code', 'zipCode')).toEqual({ score: 0.98, reason: 'case_style' });
    expect(nameSimilarity('username', 'user_name').reason).toBe('case_style');
    expect(nameSimilarity('unit', 'units')).toEqual({ score: 0.95, reason: 'plural' });
    expect(nameSimilarity('location', 'place')).toEqual({ score: 0.9, reason: 'synonym' });
    expect(nameSimilarity('start_date', 'begin_date')).toEqual({ score: 0.9, reason: 'synonym' });
    expect(nameSimilarity('postal_code', 'zip')).toEqual({ score: 0.9, reason: 'synonym' });
    expect(nameSimilarity('unit', 'unit_value').score).toBeGreaterThanOrEqual(0.8);
    expect(nameSimilarity('recieve_date', 'receive_date').reason).toBe('edit');
    expect(nameSimilarity('recieve_date', 'receive_date').score).toBeGreaterThan(0.9);
    expect(nameSimilarity('city', 'verbose').score).toBeLessThan(0.5);
    expect(nameSimilarity('a', 'b')).toEqual({ score: 0, reason: 'none' });
  });

  it('recognises every rename the provider simulator makes as a strong match', () => {
    for (const key of [
      'location',
      'city',
      'query',
      'max_results',
      'zipCode',
      'unit',
      'base',
      'radius',
      'n',
    ]) {
      expect(
        nameSimilarity(key, renamedKey(key)).score,
        `${key} -> ${renamedKey(key)}`,
      ).toBeGreaterThanOrEqual(0.7);
    }
  });
});
