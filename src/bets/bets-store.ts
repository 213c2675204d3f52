import type { CaseSpec, Suite, SuiteCase, SuiteConfig, SuiteVersion } from './bets-types.js';
import type { CapturedExample, CaptureSettings, CaptureStatus, FleetRunRecord } from './capture-types.js';
import type {
  Alert,
  AttemptResult,
  RunProgress,
  RunRecord,
  RunStatus,
  RunSummary,
  Target,
  TenantVerdict,
} from './run-types.js';

/** Who made a change and why, kept with the suite version it created. */
export interface ChangeMeta {
  actor: string;
  note: string;
  at: string;
}

/** A case to write: the spec plus where it came from (`goldenAt` defaults to the change time). */
export interface CaseWrite {
  spec: CaseSpec;
  source: SuiteCase['source'];
  goldenAt?: string;
}

/** One change to a suite; everything in it lands in one new suite version, or nothing does. */
export interface SuiteChange {
  name?: string;
  config?: SuiteConfig;
  upsert?: CaseWrite[];
  remove?: string[];
  /** Remove every case not in `upsert` (an import that replaces the suite). */
  replaceAll?: boolean;
}

export interface NewSuite {
  tenantId: string;
  workflow: string;
  channel: string;
  name: string;
  config: SuiteConfig;
}

export interface SuiteStore {
  /** Creates version 1 (or revives a deleted suite at its next version). Null if it exists. */
  createSuite(suite: NewSuite, cases: CaseWrite[], meta: ChangeMeta): Promise<Suite | null>;
  getSuite(id: string): Promise<Suite | undefined>;
  listSuites(opts: { tenantId?: string; channel?: string }): Promise<Suite[]>;
  /**
   * Applies `change` as version `expectedVersion + 1`. Returns the suite unchanged when the
   * change changes nothing, 'conflict' when the suite is not at `expectedVersion` (or gone),
   * and the missing case ids when `remove` names cases that do not exist.
   */
  changeSuite(
    id: string,
    expectedVersion: number,
    change: SuiteChange,
    meta: ChangeMeta,
  ): Promise<Suite | 'conflict' | { missing: string[] }>;
  deleteSuite(id: string, expectedVersion: number, meta: ChangeMeta): Promise<boolean>;
  /** The cases of a suite version (the current one by default), ordered by id. */
  listCases(suiteId: string, version: number): Promise<SuiteCase[]>;
  listVersions(suiteId: string): Promise<SuiteVersion[]>;
  /** The configuration a past version had. */
  versionConfig(suiteId: string, version: number): Promise<SuiteConfig | undefined>;
}

export interface RunStore {
  insertRun(run: RunRecord): Promise<void>;
  getRun(id: string): Promise<RunRecord | undefined>;
  listRuns(opts: {
    tenantId?: string;
    suiteId?: string;
    fleetRunId?: string;
    limit: number;
  }): Promise<RunRecord[]>;
  /** Running runs whose heartbeat is older than `staleBefore` (or that have no runner). */
  resumableRuns(staleBefore: string): Promise<RunRecord[]>;
  /** Takes the run for `runner` if it is running and free or stale; false if another holds it. */
  claimRun(id: string, runner: string, now: string, staleBefore: string): Promise<boolean>;
  heartbeat(id: string, runner: string, now: string): Promise<boolean>;
  releaseRun(id: string, runner: string): Promise<void>;
  /** Idempotent: a result already stored for the same (run, case, target, attempt) is kept; false then. */
  putResult(result: AttemptResult): Promise<boolean>;
  /** putResult for many, in one transaction; returns how many were new. */
  putResults(results: AttemptResult[]): Promise<number>;
  listResults(runId: string): Promise<AttemptResult[]>;
  /** Keys `caseId|target|attempt` of the results stored so far. */
  resultKeys(runId: string): Promise<Set<string>>;
  progress(runId: string): Promise<Omit<RunProgress, 'caseCount' | 'k' | 'candidateTotal'>>;
  /**
   * Ends a run, in one transaction with its consequences: the run's status and summary, the
   * tenant verdict and an alert. Only the runner holding it (or anyone, with runner null) may.
   */
  finishRun(
    id: string,
    runner: string | null,
    end: { status: RunStatus; summary: RunSummary | null; error: string | null; at: string },
    consequences: (tx: VerdictWriter) => Promise<void>,
  ): Promise<boolean>;
  getVerdict(key: VerdictKey): Promise<TenantVerdict | undefined>;
  listVerdicts(opts: { tenantId?: string; channel?: string; upgradeId?: string }): Promise<TenantVerdict[]>;
  listAlerts(opts: { tenantId?: string; limit: number }): Promise<Alert[]>;
  insertFleetRun(run: FleetRunRecord): Promise<void>;
  getFleetRun(id: string): Promise<FleetRunRecord | undefined>;
  finishFleetRun(id: string, at: string): Promise<void>;
}

export interface VerdictKey {
  tenantId: string;
  channel: string;
  candidateVersionId: string;
  upgradeId: string;
}

/** Writes that go with the end of a run, inside its transaction. */
export interface VerdictWriter {
  /** The latest finished run of each suite for this candidate, the run being finished included. */
  latestRuns(
    tenantId: string,
    channel: string,
    candidateVersionId: string,
    upgradeId: string | null,
  ): Promise<RunRecord[]>;
  upsertVerdict(v: TenantVerdict): Promise<void>;
  insertAlert(a: Alert): Promise<void>;
}

export interface CaptureStore {
  listCaptureSettings(): Promise<CaptureSettings[]>;
  getCaptureSettings(tenantId: string): Promise<CaptureSettings | undefined>;
  putCaptureSettings(s: CaptureSettings): Promise<void>;
  insertCaptures(batch: CapturedExample[]): Promise<void>;
  getCapture(id: string): Promise<CapturedExample | undefined>;
  listCaptures(opts: {
    tenantId: string;
    status?: CaptureStatus;
    workflow?: string;
    limit: number;
  }): Promise<CapturedExample[]>;
  /** Writes `next` only if the stored status is still `expected`; false otherwise. */
  updateCapture(next: CapturedExample, expected: CaptureStatus): Promise<boolean>;
}

/** The BETS store port; SqlBetsStore implements it over SQLite and PostgreSQL. */
export type BetsStore = SuiteStore & RunStore & CaptureStore;

export const resultKey = (caseId: string, target: Target, attempt: number): string =>
  `${caseId}|${target}|${attempt}`;
