import { describe, expect, it } from 'vitest';
import {
  type ClassificationPolicy,
  checkPolicy,
  LEVELS,
  type Level,
  type LevelFactor,
  DEFAULT_CLASSIFICATION_POLICY as POLICY,
} from './policy.js';
import { type ScoredProfile, scoreProfile, summarize } from './score.js';

const LOW: ScoredProfile = {
  criticality: 'low',
  toolCallComplexity: 'low',
  outputFormatRigidity: 'low',
  declaredSensitivity: 'low',
  regressionHistory: 0,
};
const DEFAULTS: ScoredProfile = {
  criticality: 'medium',
  toolCallComplexity: 'medium',
  outputFormatRigidity: 'medium',
  declaredSensitivity: 'medium',
  regressionHistory: 0,
};
const GROUP_ORDER = ['pioneers', 'early', 'standard', 'conservative'];

describe('scoring a risk profile (default policy)', () => {
  it('an all-low profile is a pioneer with score 0; the default profile is standard with 5', () => {
    expect(scoreProfile(LOW, POLICY)).toMatchObject({ groupId: 'pioneers', score: 0, floor: null });
    const d = scoreProfile(DEFAULTS, POLICY);
    expect(d).toMatchObject({ groupId: 'standard', score: 5, bandGroupId: 'standard' });
    expect(d.factors.map((f) => [f.factor, f.value, f.points])).toEqual([
      ['criticality', 'medium', 2],
      ['toolCallComplexity', 'medium', 1],
      ['outputFormatRigidity', 'medium', 1],
      ['declaredSensitivity', 'medium', 1],
      ['regressionHistory', 0, 0],
    ]);
    expect(d.factors[0]?.why).toBe('criticality is medium: 2 points');
  });

  it.each([
    ['criticality', 'medium', 2],
    ['criticality', 'high', 4],
    ['toolCallComplexity', 'medium', 1],
    ['toolCallComplexity', 'high', 2],
    ['outputFormatRigidity', 'medium', 1],
    ['outputFormatRigidity', 'high', 2],
    ['declaredSensitivity', 'medium', 1],
    ['declaredSensitivity', 'high', 3],
  ] as Array<[LevelFactor, Level, number]>)('%s %s adds %i points to the score', (factor, level, points) => {
    const c = scoreProfile({ ...LOW, [factor]: level }, POLICY);
    expect(c.score).toBe(points);
    expect(c.factors.find((f) => f.factor === factor)).toMatchObject({ value: level, points });
  });

  it('each regression adds 2 points, capped at 6', () => {
    expect(scoreProfile({ ...DEFAULTS, regressionHistory: 1 }, POLICY).score).toBe(7);
    expect(scoreProfile({ ...DEFAULTS, regressionHistory: 2 }, POLICY)).toMatchObject({
      score: 9,
      groupId: 'conservative',
    });
    const capped = scoreProfile({ ...DEFAULTS, regressionHistory: 5 }, POLICY);
    expect(capped.score).toBe(11);
    expect(capped.factors.at(-1)?.why).toBe('5 regressions x 2 points (capped at 6)');
  });

  it('band boundaries: 3 pioneers, 4 early, 8 standard, 9 conservative', () => {
    const at = (p: Partial<ScoredProfile>) => scoreProfile({ ...LOW, ...p }, POLICY);
    // 0 + 1 + 1 + 1
    expect(
      at({ toolCallComplexity: 'medium', outputFormatRigidity: 'medium', declaredSensitivity: 'medium' }),
    ).toMatchObject({ score: 3, groupId: 'pioneers' });
    // 2 + 1 + 1
    expect(
      at({ criticality: 'medium', toolCallComplexity: 'medium', outputFormatRigidity: 'medium' }),
    ).toMatchObject({ score: 4, groupId: 'early' });
    // 2 + 2 + 2 + 0 + 2 (one regression)
    expect(
      at({
        criticality: 'medium',
        toolCallComplexity: 'high',
        outputFormatRigidity: 'high',
        regressionHistory: 1,
      }),
    ).toMatchObject({ score: 8, groupId: 'standard' });
    // 4 + 2 + 2 + 1
    expect(
      at({
        criticality: 'high',
        toolCallComplexity: 'high',
        outputFormatRigidity: 'high',
        declaredSensitivity: 'medium',
      }),
    ).toMatchObject({ score: 9, groupId: 'conservative' });
  });

  it('floors: high criticality or declared sensitivity is never below standard, a regression never a pioneer', () => {
    const crit = scoreProfile({ ...LOW, criticality: 'high' }, POLICY);
    expect(crit).toMatchObject({ score: 4, bandGroupId: 'early', groupId: 'standard' });
    expect(crit.floor).toEqual({ factor: 'criticality', atLeast: 'high', groupId: 'standard' });
    expect(crit.factors[0]?.why).toBe('criticality is high: 4 points; raises the group to at least standard');

    const sens = scoreProfile({ ...LOW, declaredSensitivity: 'high' }, POLICY);
    expect(sens).toMatchObject({ score: 3, bandGroupId: 'pioneers', groupId: 'standard' });

    const regressed = scoreProfile({ ...LOW, regressionHistory: 1 }, POLICY);
    expect(regressed).toMatchObject({ score: 2, bandGroupId: 'pioneers', groupId: 'early' });

    // A floor below the band changes nothing and is not reported as the reason.
    const high = scoreProfile({ ...DEFAULTS, criticality: 'high', declaredSensitivity: 'high' }, POLICY);
    expect(high).toMatchObject({ groupId: 'conservative', floor: null });
  });

  it('raising any one factor never makes the group less cautious', () => {
    const profiles: ScoredProfile[] = [];
    for (const criticality of LEVELS)
      for (const toolCallComplexity of LEVELS)
        for (const outputFormatRigidity of LEVELS)
          for (const declaredSensitivity of LEVELS)
            for (const regressionHistory of [0, 1, 2, 3, 4])
              profiles.push({
                criticality,
                toolCallComplexity,
                outputFormatRigidity,
                declaredSensitivity,
                regressionHistory,
              });
    const rank = (p: ScoredProfile) => GROUP_ORDER.indexOf(scoreProfile(p, POLICY).groupId);
    let compared = 0;
    for (const p of profiles) {
      for (const factor of [
        'criticality',
        'toolCallComplexity',
        'outputFormatRigidity',
        'declaredSensitivity',
      ] as const) {
        const i = LEVELS.indexOf(p[factor]);
        const up = LEVELS[i + 1];
        if (!up) continue;
        expect(rank({ ...p, [factor]: up })).toBeGreaterThanOrEqual(rank(p));
        compared++;
      }
      expect(rank({ ...p, regressionHistory: p.regressionHistory + 1 })).toBeGreaterThanOrEqual(rank(p));
    }
    expect(compared).toBeGreaterThan(500);
    // Every group is reachable.
    expect(new Set(profiles.map((p) => scoreProfile(p, POLICY).groupId))).toEqual(new Set(GROUP_ORDER));
  });

  it('notes are appended to the explanation, and the summary lists the contributing factors', () => {
    const c = scoreProfile({ ...DEFAULTS, criticality: 'high' }, POLICY, {
      toolCallComplexity: 'derived from 3 tools',
    });
    expect(c.factors[1]?.why).toBe('toolCallComplexity is medium: 1 points; derived from 3 tools');
    expect(summarize(c)).toBe(
      'standard (score 7: criticality high +4, toolCallComplexity medium +1, ' +
        'outputFormatRigidity medium +1, declaredSensitivity medium +1)',
    );
    const floored = scoreProfile({ ...LOW, criticality: 'high' }, POLICY);
    expect(summarize(floored)).toBe(
      'standard (score 4: criticality high +4; floor standard from criticality)',
    );
  });
});

describe('the policy is data', () => {
  it('other weights and bands give other groups, with no code change', () => {
    const strict: ClassificationPolicy = {
      ...POLICY,
      points: { ...POLICY.points, criticality: { low: 0, medium: 5, high: 10 } },
      bands: [
        { groupId: 'standard', maxScore: 6 },
        { groupId: 'conservative', maxScore: null },
      ],
      floors: [],
    };
    checkPolicy(strict);
    expect(scoreProfile(DEFAULTS, POLICY).groupId).toBe('standard');
    expect(scoreProfile(DEFAULTS, strict)).toMatchObject({ score: 8, groupId: 'conservative' });
    expect(scoreProfile(LOW, strict).groupId).toBe('standard');
  });

  it('refuses policies that cannot place every profile in exactly one group', () => {
    checkPolicy(POLICY);
    const bad = (p: Partial<ClassificationPolicy>) => () => checkPolicy({ ...POLICY, ...p });
    expect(bad({ bands: [] })).toThrow(/no score bands/);
    expect(
      bad({
        bands: [
          { groupId: 'early', maxScore: 4 },
          { groupId: 'pioneers', maxScore: 3 },
          { groupId: 'standard', maxScore: null },
        ],
        floors: [],
      }),
    ).toThrow(/strictly ascending/);
    expect(bad({ bands: [{ groupId: 'standard', maxScore: 4 }], floors: [] })).toThrow(/open-ended/);
    expect(bad({ floors: [{ factor: 'criticality', atLeast: 'high', groupId: 'nowhere' }] })).toThrow(
      /unbanded group 'nowhere'/,
    );
  });
});
