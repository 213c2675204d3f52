import { describe, expect, it } from 'vitest';
import { compareCohorts, twoProportionZ } from './drift-cohort.js';
import type { ObservedResponse } from './drift-compare.js';
import { wrapInFence } from './fenced-json.js';
import {
  emptyShapeStats,
  mergeShapeStats,
  observeResponse,
  type ShapeStats,
  sketchSimilarity,
} from './shape-stats.js';

/** A small seeded PRNG so the cohorts are the same on every run. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const CITIES = ['Paris', 'Tokyo', 'Lima', 'Oslo', 'Cairo', 'Quito', 'Seoul', 'Accra'];

interface Drift {
  rename?: number;
  numberAsString?: number;
  fenced?: number;
  otherTool?: number;
}

function cohort(n: number, seed: number, drift: Drift = {}): ShapeStats {
  const r = rng(seed);
  const stats = emptyShapeStats();
  for (let i = 0; i < n; i++) {
    const city = CITIES[Math.floor(r() * CITIES.length)] ?? 'Paris';
    const args: Record<string, unknown> = { location: city, days: 1 + Math.floor(r() * 7) };
    if (r() < (drift.rename ?? 0)) {
      args.place = args.location;
      delete args.location;
    }
    if (r() < (drift.numberAsString ?? 0)) args.days = String(args.days);
    let text = JSON.stringify(args);
    if (r() < (drift.fenced ?? 0)) text = wrapInFence(text);
    const name = r() < 0.2 + (drift.otherTool ?? 0) ? 'search_web' : 'get_weather';
    const response: ObservedResponse =
      r() < 0.1 ? { toolCalls: [], text: 'It is sunny.' } : { toolCalls: [{ name, argumentsText: text }] };
    observeResponse(stats, response);
  }
  return stats;
}

describe('compareCohorts', () => {
  it('finds nothing between two samples of the same behaviour', () => {
    const report = compareCohorts(cohort(2000, 1), cohort(2000, 2));
    expect(report.sufficient).toBe(true);
    expect(report.findings).toEqual([]);
    expect(report.toolChoice.distance).toBeLessThan(0.05);
  });

  it('finds a rename (not missing + added), a type change, a format shift and a tool choice shift', () => {
    const report = compareCohorts(
      cohort(2000, 1),
      cohort(2000, 2, { rename: 0.3, numberAsString: 0.2, fenced: 0.15, otherTool: 0.2 }),
    );
    const kinds = report.findings.map(
      (f) =>
        `${f.kind} ${f.tool} ${f.path ?? ''}${f.to ? `->${f.to}` : ''}${f.from ? ` from ${f.from}` : ''}`,
    );
    expect(kinds).toEqual(
      expect.arrayContaining([
        'field_renamed get_weather /location->/place',
        'type_changed get_weather /days->string from number',
        'format_shift get_weather ->json_in_markdown from json',
        'tool_changed search_web ',
        'tool_changed get_weather ',
      ]),
    );
    expect(report.findings.some((f) => f.kind === 'field_missing' || f.kind === 'field_added')).toBe(false);
    const renamed = report.findings.find((f) => f.kind === 'field_renamed');
    expect(renamed?.canaryRate).toBeGreaterThan(0.2);
  });

  it('holds back findings until both cohorts have enough samples', () => {
    const report = compareCohorts(cohort(20, 1), cohort(20, 2, { rename: 1 }));
    expect(report.sufficient).toBe(false);
    expect(report.findings).toEqual([]);
  });
});

describe('ShapeStats', () => {
  it('merges by addition: split and merged equals observed at once, in any order', () => {
    const whole = cohort(300, 7, { rename: 0.5 });
    const a = cohort(300, 7, { rename: 0.5 });
    const b = cohort(100, 8, { fenced: 0.5 });
    const c = cohort(50, 9);
    expect(mergeShapeStats(mergeShapeStats(a, b), c)).toEqual(mergeShapeStats(a, mergeShapeStats(b, c)));
    expect(mergeShapeStats(a, b)).toEqual(mergeShapeStats(b, a));
    expect(mergeShapeStats(whole, emptyShapeStats())).toEqual(whole);
    expect(JSON.parse(JSON.stringify(whole))).toEqual(whole);
  });

  it('counts a model-chosen __proto__ key as data', () => {
    const stats = emptyShapeStats();
    observeResponse(stats, { toolCalls: [{ name: '__proto__', argumentsText: '{"__proto__":{"x":1}}' }] });
    expect(Object.keys(stats.tools)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).calls).toBeUndefined();
  });

  it('estimates value overlap and proportions', () => {
    expect(sketchSimilarity([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(sketchSimilarity([1, 2], [3, 4])).toBe(0);
    expect(twoProportionZ(50, 100, 50, 100)).toBe(0);
    expect(twoProportionZ(10, 100, 40, 100)).toBeGreaterThan(4);
    expect(twoProportionZ(0, 0, 1, 1)).toBe(0);
  });
});
