/**
 * The group classification policy, as data: how many points each risk factor's value is worth,
 * which score bands map to which rollout group, which single factor values set a minimum group
 * whatever the score, and how tool-call complexity is derived from a tenant's tool contracts.
 * The scoring code (`score.ts`, `derive.ts`) only interprets this; changing the policy is a data
 * change. The design and the reasoning behind the numbers are in docs/design/rollouts.md
 * ("Group classification").
 */

export type Level = 'low' | 'medium' | 'high';
export const LEVELS: readonly Level[] = ['low', 'medium', 'high'];

/** The risk profile fields that take a level. */
export type LevelFactor =
  | 'criticality'
  | 'toolCallComplexity'
  | 'outputFormatRigidity'
  | 'declaredSensitivity';
export type Factor = LevelFactor | 'regressionHistory';
/** The order factors are scored and listed in. */
export const FACTORS: readonly Factor[] = [
  'criticality',
  'toolCallComplexity',
  'outputFormatRigidity',
  'declaredSensitivity',
  'regressionHistory',
];

/** A score band: scores up to `maxScore` (inclusive) belong to `groupId`; null is open-ended. */
export interface ScoreBand {
  groupId: string;
  maxScore: number | null;
}

/** A factor value that puts the tenant in at least `groupId`, whatever its score. */
export type GroupFloor =
  | { factor: LevelFactor; atLeast: Level; groupId: string }
  | { factor: 'regressionHistory'; atLeast: number; groupId: string };

/** Points for a metric: the highest step whose `atLeast` the metric reaches (none: 0 points). */
export interface MetricStep {
  atLeast: number;
  points: number;
}

export type ToolMetric = 'toolCount' | 'maxDepth' | 'maxRequired' | 'enumCount';

export interface ToolComplexityPolicy {
  /** Steps per metric, ascending by `atLeast`. */
  steps: Record<ToolMetric, readonly MetricStep[]>;
  /** Total points from which the derived complexity is medium, and high. */
  mediumFrom: number;
  highFrom: number;
}

export interface ClassificationPolicy {
  points: Record<LevelFactor, Record<Level, number>>;
  /** Points per regression in the evaluation window, capped at `max`. */
  regression: { each: number; max: number };
  /** Ascending: the least cautious group first; the last band has `maxScore: null`. */
  bands: readonly ScoreBand[];
  floors: readonly GroupFloor[];
  toolComplexity: ToolComplexityPolicy;
}

/**
 * The default policy, calibrated on the default groups (ids as seeded: pioneers, early, standard,
 * conservative). Criticality and declared sensitivity weigh most, because a regression there costs
 * most; tool-call complexity and output format rigidity measure how easily a new model breaks the
 * tenant's downstream code. A profile left at its defaults (all medium, no regressions) scores 5,
 * which is `standard`, the group a new tenant gets.
 */
export const DEFAULT_CLASSIFICATION_POLICY: ClassificationPolicy = {
  points: {
    criticality: { low: 0, medium: 2, high: 4 },
    toolCallComplexity: { low: 0, medium: 1, high: 2 },
    outputFormatRigidity: { low: 0, medium: 1, high: 2 },
    declaredSensitivity: { low: 0, medium: 1, high: 3 },
  },
  regression: { each: 2, max: 6 },
  bands: [
    { groupId: 'pioneers', maxScore: 3 },
    { groupId: 'early', maxScore: 4 },
    { groupId: 'standard', maxScore: 8 },
    { groupId: 'conservative', maxScore: null },
  ],
  floors: [
    { factor: 'criticality', atLeast: 'high', groupId: 'standard' },
    { factor: 'declaredSensitivity', atLeast: 'high', groupId: 'standard' },
    { factor: 'regressionHistory', atLeast: 1, groupId: 'early' },
  ],
  toolComplexity: {
    steps: {
      toolCount: [
        { atLeast: 4, points: 1 },
        { atLeast: 10, points: 2 },
      ],
      maxDepth: [
        { atLeast: 2, points: 1 },
        { atLeast: 3, points: 2 },
      ],
      maxRequired: [
        { atLeast: 4, points: 1 },
        { atLeast: 7, points: 2 },
      ],
      enumCount: [
        { atLeast: 1, points: 1 },
        { atLeast: 6, points: 2 },
      ],
    },
    mediumFrom: 2,
    highFrom: 4,
  },
};

export const levelRank = (l: Level): number => LEVELS.indexOf(l);
export const maxLevel = (a: Level, b: Level): Level => (levelRank(a) >= levelRank(b) ? a : b);

/**
 * Refuses a policy that cannot classify every profile into exactly one group: bands must be
 * non-empty, strictly ascending, end open-ended, name each group once, and floors must name a
 * banded group. Throws an Error naming the first problem.
 */
export function checkPolicy(policy: ClassificationPolicy): void {
  const { bands } = policy;
  if (bands.length === 0) throw new Error('classification policy: no score bands');
  const ids = new Set<string>();
  let previous = Number.NEGATIVE_INFINITY;
  bands.forEach((band, i) => {
    if (ids.has(band.groupId)) throw new Error(`classification policy: group '${band.groupId}' banded twice`);
    ids.add(band.groupId);
    const last = i === bands.length - 1;
    if (last !== (band.maxScore === null)) {
      throw new Error('classification policy: exactly the last band must be open-ended (maxScore null)');
    }
    if (band.maxScore !== null) {
      if (!Number.isFinite(band.maxScore) || band.maxScore <= previous) {
        throw new Error('classification policy: band maxScore values must be finite and strictly ascending');
      }
      previous = band.maxScore;
    }
  });
  for (const floor of policy.floors) {
    if (!ids.has(floor.groupId)) {
      throw new Error(
        `classification policy: floor on ${floor.factor} names unbanded group '${floor.groupId}'`,
      );
    }
  }
  for (const [metric, steps] of Object.entries(policy.toolComplexity.steps)) {
    for (let i = 1; i < steps.length; i++) {
      if ((steps[i]?.atLeast ?? 0) <= (steps[i - 1]?.atLeast ?? 0)) {
        throw new Error(`classification policy: steps of ${metric} must be strictly ascending`);
      }
    }
  }
  if (policy.toolComplexity.highFrom < policy.toolComplexity.mediumFrom) {
    throw new Error('classification policy: toolComplexity.highFrom is below mediumFrom');
  }
}
