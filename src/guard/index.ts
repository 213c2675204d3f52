/**
 * The rollback guard's public surface: what the rollout controller and the telemetry layer use.
 * Simulation helpers (prng.ts, sim-traffic.ts, fixtures.ts) are for tests and benchmarks only.
 */
export type { ClearanceStatus, LedgerSnapshot } from './clearance.js';
export {
  alphaFor,
  type CheckId,
  DEFAULT_GUARD_CONFIG,
  type GuardConfig,
  type GuardConfigOverrides,
  guardConfig,
} from './config.js';
export {
  type Decision,
  decide,
  type Evaluation,
  type GuardDeps,
  type GuardInput,
  type GuardState,
  openGuard,
  type Verdict,
} from './decide.js';
export type {
  CheckKind,
  Evidence,
  EvidenceMethod,
  EvidenceWindow,
  Finding,
  FindingStatus,
  Trigger,
} from './evidence.js';
export {
  ARGO_EXAMPLE,
  canaryWindow,
  describeMeasurement,
  type FixedThresholdConfig,
  type FixedThresholdDecision,
  type FixedThresholdState,
  FLAGGER_DEFAULTS,
  openFixedThreshold,
  stepFixedThreshold,
} from './fixed-threshold-controller.js';
export type { DataSourceStatus, GuardPhase, HoldAction, PhaseKind, Streak } from './guards.js';
export { type EvidenceLedger, foldPeriod, foldSettled, openLedger } from './ledger.js';
export {
  type BernoulliCounts,
  type CohortCounts,
  emptyCohort,
  type LatencyQuantiles,
  type LatencyWindow,
  type MomentSums,
  mergeCohorts,
  RATE_SIGNALS,
  type RateSignalName,
  type RollupBucket,
  type SignalName,
} from './signals.js';
