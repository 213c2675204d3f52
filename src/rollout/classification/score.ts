import {
  type ClassificationPolicy,
  FACTORS,
  type Factor,
  type GroupFloor,
  type Level,
  levelRank,
} from './policy.js';

/** The values classification scores: a risk profile, after deriving (see derive.ts). */
export interface ScoredProfile {
  criticality: Level;
  toolCallComplexity: Level;
  outputFormatRigidity: Level;
  declaredSensitivity: Level;
  regressionHistory: number;
}

/** One factor's contribution, for the explanation. */
export interface FactorScore {
  factor: Factor;
  value: Level | number;
  points: number;
  why: string;
}

export interface Classification {
  groupId: string;
  score: number;
  factors: FactorScore[];
  /** The group the score alone gives, before floors. */
  bandGroupId: string;
  /** The floor that raised the group above its band, if one did. */
  floor: GroupFloor | null;
}

function floorApplies(floor: GroupFloor, profile: ScoredProfile): boolean {
  if (floor.factor === 'regressionHistory') return profile.regressionHistory >= floor.atLeast;
  return levelRank(profile[floor.factor]) >= levelRank(floor.atLeast);
}

/**
 * Maps a risk profile to a rollout group, explaining each factor's part. Pure: the same profile
 * and policy always give the same answer.
 *
 * 1. Each level factor earns `policy.points[factor][level]`; regression history earns
 *    `regression.each` per regression, capped at `regression.max`. The score is their sum.
 * 2. The group is the first band (least cautious first) whose `maxScore` the score does not
 *    exceed.
 * 3. Floors: a factor value named by a floor lifts the group to at least the floor's group
 *    (e.g. a highly critical tenant is never a pioneer, whatever else it scores).
 *
 * `notes` add provenance to a factor's explanation (e.g. "derived from 12 tool contracts").
 */
export function scoreProfile(
  profile: ScoredProfile,
  policy: ClassificationPolicy,
  notes: Partial<Record<Factor, string>> = {},
): Classification {
  const factors: FactorScore[] = FACTORS.map((factor) => {
    if (factor === 'regressionHistory') {
      const n = profile.regressionHistory;
      const raw = n * policy.regression.each;
      const points = Math.min(raw, policy.regression.max);
      const capped = raw > points ? ` (capped at ${policy.regression.max})` : '';
      return {
        factor,
        value: n,
        points,
        why: `${n} regression${n === 1 ? '' : 's'} x ${policy.regression.each} points${capped}`,
      };
    }
    const value = profile[factor];
    const points = policy.points[factor][value];
    return { factor, value, points, why: `${factor} is ${value}: ${points} points` };
  });
  for (const f of factors) {
    const note = notes[f.factor];
    if (note) f.why = `${f.why}; ${note}`;
  }
  const score = factors.reduce((sum, f) => sum + f.points, 0);

  const order = policy.bands.map((b) => b.groupId);
  const band = policy.bands.find((b) => b.maxScore === null || score <= b.maxScore) ?? policy.bands.at(-1);
  if (!band) throw new Error('classification policy has no bands');
  let groupId = band.groupId;
  let floor: GroupFloor | null = null;
  for (const candidate of policy.floors) {
    if (floorApplies(candidate, profile) && order.indexOf(candidate.groupId) > order.indexOf(groupId)) {
      groupId = candidate.groupId;
      floor = candidate;
    }
  }
  // Only the floor that decided the group is named: the others changed nothing.
  const floored = floor && factors.find((x) => x.factor === floor?.factor);
  if (floored && floor) floored.why = `${floored.why}; raises the group to at least ${floor.groupId}`;
  return { groupId, score, factors, bandGroupId: band.groupId, floor };
}

/** One line for an audit reason: `conservative (score 9: criticality high +4, ...)`. */
export function summarize(c: Classification): string {
  const parts = c.factors.filter((f) => f.points > 0).map((f) => `${f.factor} ${f.value} +${f.points}`);
  const floor = c.floor ? `; floor ${c.floor.groupId} from ${c.floor.factor}` : '';
  return `${c.groupId} (score ${c.score}${parts.length ? `: ${parts.join(', ')}` : ''}${floor})`;
}
