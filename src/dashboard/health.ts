/**
 * Fleet health as the dashboard shows it: each tenant (on each channel) is healthy, degraded or
 * critical from what its rollout and its traffic say right now, and the fleet's score is the
 * share of tenants healthy, weighted by criticality. Pure functions, so the score is testable and
 * the page can show exactly how it was computed.
 */

export type HealthStatus = 'healthy' | 'degraded' | 'critical';
export type Criticality = 'low' | 'medium' | 'high';

/** What a status contributes to the score. */
export const STATUS_VALUE: Readonly<Record<HealthStatus, number>> = {
  healthy: 1,
  degraded: 0.5,
  critical: 0,
};
/** How much a tenant counts: a high-criticality tenant weighs four low ones. */
export const CRITICALITY_WEIGHT: Readonly<Record<Criticality, number>> = { low: 1, medium: 2, high: 4 };

/** Fewest requests of a cohort in the window before its rates are compared. */
export const MIN_REQUESTS = 20;
/** Error-rate gap (canary minus control) that makes a tenant degraded, and critical. */
export const DEGRADED_GAP = 0.01;
export const CRITICAL_GAP = 0.05;
/** Error rate of the stable (control) cohort that makes a tenant degraded whatever the upgrade. */
export const STABLE_ERROR_RATE = 0.05;

const REGRESSION_VERDICTS = new Set(['rollback', 'pause', 'escalate']);
const TRAFFIC_PHASES = new Set(['shadow', 'canary', 'awaiting_approval', 'paused']);

export interface CohortRates {
  requests: number;
  errorRate: number | null;
  toolCallInvalidRate: number | null;
}

export interface HealthInput {
  /** The phase of the tenant's current rollout; null when no upgrade touches it. */
  phase: string | null;
  /** The rollout controller's latest guard verdict on this rollout. */
  guardVerdict: string | null;
  guardReason: string | null;
  /** Why the rollout is where it is (paused, rolled back). */
  reason: string | null;
  canary: CohortRates | null;
  control: CohortRates | null;
}

export interface TenantHealth {
  status: HealthStatus;
  /** Every finding that set the status, worst first; empty when healthy. */
  reasons: string[];
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function gap(canary: number | null, control: number | null): number | null {
  return canary === null || control === null ? null : canary - control;
}

/**
 * Critical: a rollback is under way, the guard's latest verdict on live candidate traffic is a
 * regression, or the canary's error rate is 5 points above control's. Degraded: the rollout is
 * paused or was rolled back (the tenant is back on stable, with an incident to review), the canary
 * is 1 point worse than control on errors or invalid tool calls, or stable itself fails on 5% of
 * requests. Rates count only with at least MIN_REQUESTS requests in each cohort. A tenant blocked
 * at BETS is healthy: the gate did its job and no traffic reached the candidate.
 */
export function tenantHealth(h: HealthInput): TenantHealth {
  const critical: string[] = [];
  const degraded: string[] = [];
  if (h.phase === 'rolling_back') critical.push(`rollback in progress${h.reason ? `: ${h.reason}` : ''}`);
  if (
    h.phase !== null &&
    TRAFFIC_PHASES.has(h.phase) &&
    h.guardVerdict &&
    REGRESSION_VERDICTS.has(h.guardVerdict)
  )
    critical.push(`guard: ${h.guardVerdict}${h.guardReason ? ` (${h.guardReason})` : ''}`);
  const compared =
    h.canary !== null &&
    h.control !== null &&
    h.canary.requests >= MIN_REQUESTS &&
    h.control.requests >= MIN_REQUESTS;
  if (compared && h.canary && h.control) {
    const errors = gap(h.canary.errorRate, h.control.errorRate);
    const invalid = gap(h.canary.toolCallInvalidRate, h.control.toolCallInvalidRate);
    const errorText = `canary errors ${pct(h.canary.errorRate ?? 0)} vs control ${pct(h.control.errorRate ?? 0)}`;
    if (errors !== null && errors >= CRITICAL_GAP) critical.push(errorText);
    else if (errors !== null && errors >= DEGRADED_GAP) degraded.push(errorText);
    if (invalid !== null && invalid >= DEGRADED_GAP)
      degraded.push(
        `canary invalid tool calls ${pct(h.canary.toolCallInvalidRate ?? 0)} vs control ${pct(h.control.toolCallInvalidRate ?? 0)}`,
      );
  }
  if (h.phase === 'paused') degraded.push(`paused${h.reason ? `: ${h.reason}` : ''}`);
  if (h.phase === 'rolled_back') degraded.push(`rolled back${h.reason ? `: ${h.reason}` : ''}`);
  if (
    h.control !== null &&
    h.control.requests >= MIN_REQUESTS &&
    h.control.errorRate !== null &&
    h.control.errorRate >= STABLE_ERROR_RATE
  )
    degraded.push(`stable errors ${pct(h.control.errorRate)}`);
  if (critical.length > 0) return { status: 'critical', reasons: [...critical, ...degraded] };
  if (degraded.length > 0) return { status: 'degraded', reasons: degraded };
  return { status: 'healthy', reasons: [] };
}

export interface FleetHealth {
  /** 0 to 100, one decimal; null for an empty fleet. */
  score: number | null;
  counts: Record<HealthStatus, number>;
  /** Σ weight × status value, and Σ weight: score = 100 × weighted / totalWeight. */
  weighted: number;
  totalWeight: number;
  formula: string;
  weights: Readonly<Record<Criticality, number>>;
  values: Readonly<Record<HealthStatus, number>>;
}

export const HEALTH_FORMULA =
  'score = 100 × Σ(weight × value) / Σ weight; value: healthy 1, degraded 0.5, critical 0; weight by criticality: low 1, medium 2, high 4';

export function criticalityOf(value: unknown): Criticality {
  return value === 'low' || value === 'high' ? value : 'medium';
}

export function fleetHealth(
  rows: readonly { criticality: Criticality; status: HealthStatus }[],
): FleetHealth {
  const counts: Record<HealthStatus, number> = { healthy: 0, degraded: 0, critical: 0 };
  let weighted = 0;
  let totalWeight = 0;
  for (const r of rows) {
    const w = CRITICALITY_WEIGHT[r.criticality];
    counts[r.status]++;
    weighted += w * STATUS_VALUE[r.status];
    totalWeight += w;
  }
  return {
    score: totalWeight > 0 ? Math.round((1000 * weighted) / totalWeight) / 10 : null,
    counts,
    weighted,
    totalWeight,
    formula: HEALTH_FORMULA,
    weights: CRITICALITY_WEIGHT,
    values: STATUS_VALUE,
  };
}
