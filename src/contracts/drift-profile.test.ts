import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareResponses, type ObservedResponse } from './drift-compare.js';
import {
  type DriftProfile,
  driftRates,
  emptyDriftProfile,
  mergeDriftProfiles,
  parseDriftProfile,
  recordCohortResponse,
  recordPair,
} from './drift-profile.js';
import { wrapInFence } from './fenced-json.js';

const call = (name: string, args: unknown, fenced = false) => {
  const text = JSON.stringify(args);
  return { name, argumentsText: fenced ? wrapInFence(text) : text };
};
const clean: ObservedResponse = { toolCalls: [call('get_weather', { location: 'Paris', days: 3 })] };

/** One candidate response per drift the simulator can play, against the clean stable call. */
const VARIANTS: Record<string, ObservedResponse> = {
  clean,
  renamed: { toolCalls: [call('get_weather', { place: 'Paris', days: 3 })] },
  numberAsString: { toolCalls: [call('get_weather', { location: 'Paris', days: '3' })] },
  missing: { toolCalls: [call('get_weather', { location: 'Paris' })] },
  extra: { toolCalls: [call('get_weather', { location: 'Paris', days: 3, reasoning: 'asked' })] },
  otherTool: { toolCalls: [call('search_web', { q: 'Paris weather' })] },
  fenced: { toolCalls: [call('get_weather', { location: 'Paris', days: 3 }, true)] },
  noCall: { toolCalls: [], text: 'It is sunny in Paris.' },
};

function profileOf(variants: readonly string[], start = 0): DriftProfile {
  const p = emptyDriftProfile('acme', 'v1', 'v2');
  variants.forEach((v, i) => {
    const candidate = VARIANTS[v] ?? clean;
    recordPair(p, compareResponses(clean, candidate), start + i);
    recordCohortResponse(p, 'control', clean, start + i);
    recordCohortResponse(p, 'canary', candidate, start + i);
  });
  return p;
}

describe('DriftProfile', () => {
  it('counts pairs per drift kind, per tool and per field', () => {
    const p = profileOf([
      'clean',
      'clean',
      'renamed',
      'numberAsString',
      'missing',
      'extra',
      'otherTool',
      'fenced',
      'noCall',
      'renamed',
    ]);
    expect(p.pairs).toBe(10);
    expect(p.pairsWithDrift).toBe(8);
    const weather = p.tools.get_weather;
    expect(weather?.pairs).toBe(10);
    expect(weather?.kinds).toEqual({
      field_renamed: 2,
      type_changed: 1,
      field_missing: 1,
      field_added: 1,
      tool_changed: 1,
      format_shift: 1,
      call_missing: 1,
    });
    expect(weather?.fields['/location']?.renamedTo).toEqual({ '/place': 2 });
    expect(weather?.fields['/days']?.typeChanges).toEqual({ 'number->string': 1 });
    expect(weather?.fields['/days']?.missing).toBe(1);
    expect(weather?.fields['/reasoning']?.added).toBe(1);
    expect(weather?.choseInstead).toEqual({ search_web: 1 });
    expect(weather?.formatShifts).toEqual({ 'json->json_in_markdown': 1 });
    expect(p.tools.search_web?.pairs).toBe(1);
    const rates = driftRates(p);
    expect(rates.drift).toBe(0.8);
    expect(rates.kinds.field_renamed).toBe(0.2);
    expect(rates.tools.get_weather?.kinds.tool_changed).toBe(0.1);
    expect(p.firstAt).toBe(0);
    expect(p.lastAt).toBe(9);
    expect(p.cohorts.canary.responses).toBe(10);
  });

  it('round-trips through JSON and refuses what is not a profile', () => {
    const p = profileOf(['renamed', 'fenced', 'otherTool']);
    expect(parseDriftProfile(JSON.parse(JSON.stringify(p)))).toEqual(p);
    expect(() => parseDriftProfile({ ...p, pairs: -1 })).toThrow(/not a drift profile: \/pairs/);
    expect(() => parseDriftProfile({ format: 'x' })).toThrow(/not a drift profile/);
  });

  it('keeps model-chosen names such as __proto__ and constructor as data, also after a JSON round trip', () => {
    const evil: ObservedResponse = {
      toolCalls: [call('__proto__', { constructor: 1 }), call('constructor', { __proto__: 2 })],
    };
    const p = parseDriftProfile(JSON.parse(JSON.stringify(profileOf(['clean']))));
    recordPair(p, compareResponses(clean, evil), 1);
    recordCohortResponse(p, 'canary', evil, 1);
    const back = parseDriftProfile(JSON.parse(JSON.stringify(p)));
    expect(Object.keys(back.tools).sort()).toEqual(['__proto__', 'constructor', 'get_weather']);
    const ctor: string = 'constructor';
    expect(back.tools[ctor]?.pairs).toBe(1);
    expect(Object.keys(back.cohorts.canary.tools).sort()).toEqual([
      '__proto__',
      'constructor',
      'get_weather',
    ]);
    expect(({} as Record<string, unknown>).pairs).toBeUndefined();
  });

  it('merges associatively and commutatively, and equals the profile of all pairs at once', () => {
    const variant = fc.constantFrom(...Object.keys(VARIANTS));
    fc.assert(
      fc.property(
        fc.array(variant, { maxLength: 12 }),
        fc.array(variant, { maxLength: 12 }),
        fc.array(variant, { maxLength: 12 }),
        (a, b, c) => {
          const pa = profileOf(a, 0);
          const pb = profileOf(b, a.length);
          const pc = profileOf(c, a.length + b.length);
          const left = mergeDriftProfiles(mergeDriftProfiles(pa, pb), pc);
          expect(left).toEqual(mergeDriftProfiles(pa, mergeDriftProfiles(pb, pc)));
          expect(mergeDriftProfiles(pa, pb)).toEqual(mergeDriftProfiles(pb, pa));
          expect(JSON.parse(JSON.stringify(left))).toEqual(
            JSON.parse(JSON.stringify(profileOf([...a, ...b, ...c]))),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses to merge profiles of different tenants or versions', () => {
    expect(() =>
      mergeDriftProfiles(emptyDriftProfile('a', 'v1', 'v2'), emptyDriftProfile('a', 'v1', 'v3')),
    ).toThrow(/cannot merge/);
  });
});
