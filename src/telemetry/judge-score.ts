/**
 * The pinned judge model's similarity score for one sampled pair: the candidate's answer and the
 * stable version's answer to the same request (a shadow pair, or a canary request mirrored to
 * stable). Scores feed the rollups' judge moments, which the rollback controller compares.
 */
export interface JudgeScore {
  atMs: number;
  tenantId: string;
  channel: string;
  candidateVersionId: string;
  stableVersionId: string;
  /** Where the pair came from. */
  source: 'shadow' | 'canary';
  requestId: string;
  /** Similarity in [0, 1]: 1 means the candidate's answer is equivalent to stable's. */
  score: number;
}

/** Where judge scores go (port); the telemetry rollups implement it. Never blocks the caller. */
export interface JudgeScoreSink {
  record(score: JudgeScore): void;
}
