/**
 * What every verdict carries: the counts and rates it saw, the statistic and the threshold it was
 * compared with, the method, and the window of data. Each kind of check has its own shape (a
 * union, so a reader can switch on `kind`), all with the same six fields at the top.
 */
import type { BernoulliCounts, MomentSums, SignalName } from './signals.js';

export interface EvidenceWindow {
  readonly fromMs: number;
  readonly toMs: number;
}

export type EvidenceMethod =
  | 'conditional-msprt'
  | 'beta-binomial-cs'
  | 'betting-cs'
  | 'p99-ratio'
  | 'min-samples'
  | 'staleness'
  | 'source-availability';

interface EvidenceBase {
  readonly method: EvidenceMethod;
  readonly statistic: number;
  readonly threshold: number;
  readonly window: EvidenceWindow;
}

export interface RateDifference {
  readonly canary: number | null;
  readonly control: number | null;
  /** canary − control; null unless both cohorts have trials. */
  readonly difference: number | null;
  /** Always-valid (1 − α) interval on the difference. */
  readonly differenceLower: number;
  readonly differenceUpper: number;
}

/**
 * Canary vs control on one rate: statistic = ln E (the mixture e-value), threshold = ln(1/α).
 * When a restart carries the evidence (its own term reaches the threshold), `counts`, `rates` and
 * `window` are that restart's data and `restart` names it; otherwise they cover the whole stage.
 */
export interface RateComparisonEvidence extends EvidenceBase {
  readonly kind: 'rate_comparison';
  readonly counts: { readonly canary: BernoulliCounts; readonly control: BernoulliCounts };
  readonly rates: RateDifference;
  readonly restart: { readonly fromMs: number; readonly logTerm: number } | null;
  /** Counts since the guard's origin. */
  readonly stageCounts: { readonly canary: BernoulliCounts; readonly control: BernoulliCounts };
  readonly alpha: number;
  readonly minEffect: number;
  readonly alwaysValidP: number;
}

/** Canary rate against an absolute cap: statistic = lower confidence bound, threshold = cap. */
export interface RateCapEvidence extends EvidenceBase {
  readonly kind: 'rate_cap';
  readonly counts: { readonly canary: BernoulliCounts };
  readonly rates: { readonly canary: number | null; readonly lower: number; readonly upper: number };
  readonly alpha: number;
}

/**
 * Whether a held signal has cleared, on data since the hold: statistic = the always-valid upper
 * bound (on the difference, or on the canary rate for a cap), threshold = what it must fall below.
 */
export interface RateClearanceEvidence extends EvidenceBase {
  readonly kind: 'rate_clearance';
  readonly counts: { readonly canary: BernoulliCounts; readonly control: BernoulliCounts };
  readonly rates: RateDifference;
  readonly alpha: number;
}

/** Judge similarity: statistic = ln of the betting evidence for "mean below minimum". */
export interface BoundedMeanEvidence extends EvidenceBase {
  readonly kind: 'bounded_mean';
  readonly counts: { readonly canary: MomentSums };
  readonly rates: { readonly mean: number | null; readonly lower: number; readonly upper: number };
  readonly minimum: number;
  readonly alpha: number;
}

/** Latency: statistic = canary p99 / control p99, threshold = 1 + allowed increase. */
export interface LatencyEvidence extends EvidenceBase {
  readonly kind: 'latency_ratio';
  readonly counts: { readonly canary: number; readonly control: number };
  readonly rates: {
    readonly canaryP50Ms: number;
    readonly controlP50Ms: number;
    readonly canaryP99Ms: number;
    readonly controlP99Ms: number;
  };
}

/** Not enough trials yet: statistic = the smaller of (trials / required) over the two cohorts, threshold = 1. */
export interface MinSamplesEvidence extends EvidenceBase {
  readonly kind: 'min_samples';
  readonly counts: { readonly canary: number; readonly control: number };
  readonly required: { readonly canary: number; readonly control: number };
  readonly rates: { readonly canary: number | null; readonly control: number | null };
}

/** A cohort (or the rollup pipeline) went silent: statistic = ms of silence, threshold = allowed. */
export interface StalenessEvidence extends EvidenceBase {
  readonly kind: 'stale';
  readonly counts: { readonly periods: number };
  readonly rates: Readonly<Record<string, never>>;
  readonly lastEventAtMs: { readonly canary: number | null; readonly control: number | null };
  readonly foldedThroughMs: number;
}

/** The telemetry source is down: statistic = ms since it went down, threshold = 0. */
export interface SourceUnavailableEvidence extends EvidenceBase {
  readonly kind: 'source_unavailable';
  readonly counts: { readonly periods: number };
  readonly rates: Readonly<Record<string, never>>;
  readonly detail: string;
}

export type Evidence =
  | RateComparisonEvidence
  | RateCapEvidence
  | RateClearanceEvidence
  | BoundedMeanEvidence
  | LatencyEvidence
  | MinSamplesEvidence
  | StalenessEvidence
  | SourceUnavailableEvidence;

/** Which check a finding came from; also what a held rollout is waiting on (a union, not flags). */
export type CheckKind = 'comparison' | 'cap' | 'judge' | 'latency';

export interface Trigger {
  readonly check: CheckKind;
  readonly signal: SignalName;
}

export type FindingStatus = 'insufficient' | 'clear' | 'regressed';

/** One check's result at one evaluation. */
export interface Finding extends Trigger {
  readonly status: FindingStatus;
  readonly evidence: Evidence;
  readonly reason: string;
}
