import type { DataSourceStatus } from './guards.js';
import type { LatencyWindow, RollupBucket } from './signals.js';

/** Which traffic a guard compares: one tenant's canary (candidate) against its control (stable). */
export interface CohortQuery {
  readonly tenantId: string;
  readonly channel: string;
  readonly candidateVersionId: string;
  readonly stableVersionId: string;
  /** Inclusive start and exclusive end of the window, epoch ms. */
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * Where the rollback controller reads its signals (port). The telemetry layer implements it from
 * its per-minute rollups (the same data the dashboard and the metrics API show), so the controller
 * never reads raw events.
 */
export interface SignalSource {
  /** Closed (settled) per-minute buckets of canary vs control in the window, oldest first. */
  buckets(q: CohortQuery): Promise<RollupBucket[]>;
  /** Latency quantiles of both cohorts over the window (from mergeable sketches), if any data. */
  latency(q: CohortQuery): Promise<LatencyWindow | null>;
  /** Whether the data behind the buckets can be trusted now (storage reachable, rollups current). */
  status(nowMs: number): DataSourceStatus;
}
