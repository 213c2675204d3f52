import { describe, expect, it } from 'vitest';
import { fleetHealth, type HealthInput, tenantHealth } from './health.js';

const quiet: HealthInput = {
  phase: null,
  guardVerdict: null,
  guardReason: null,
  reason: null,
  canary: null,
  control: null,
};
const cohort = (requests: number, errorRate: number, toolCallInvalidRate = 0) => ({
  requests,
  errorRate,
  toolCallInvalidRate,
});

describe('tenant health', () => {
  it('is healthy with no upgrade and no traffic, and when blocked at BETS', () => {
    expect(tenantHealth(quiet)).toEqual({ status: 'healthy', reasons: [] });
    expect(tenantHealth({ ...quiet, phase: 'blocked', reason: 'BETS verdict: fail' }).status).toBe('healthy');
  });

  it('is critical while rolling back, or when the guard finds a regression on live traffic', () => {
    expect(tenantHealth({ ...quiet, phase: 'rolling_back', reason: 'canary worse' })).toEqual({
      status: 'critical',
      reasons: ['rollback in progress: canary worse'],
    });
    const h = tenantHealth({
      ...quiet,
      phase: 'canary',
      guardVerdict: 'rollback',
      guardReason: 'tool calls',
    });
    expect(h).toEqual({ status: 'critical', reasons: ['guard: rollback (tool calls)'] });
    // A verdict left over from before the tenant's rollout ended does not count.
    expect(tenantHealth({ ...quiet, phase: 'complete', guardVerdict: 'rollback' }).status).toBe('healthy');
  });

  it('compares canary with control only with enough requests in both', () => {
    const bad = { ...quiet, phase: 'canary', canary: cohort(100, 0.08), control: cohort(100, 0.01) };
    expect(tenantHealth(bad).status).toBe('critical');
    expect(tenantHealth({ ...bad, canary: cohort(19, 0.5) }).status).toBe('healthy');
    const slightly = tenantHealth({ ...bad, canary: cohort(100, 0.025) });
    expect(slightly).toEqual({ status: 'degraded', reasons: ['canary errors 2.5% vs control 1.0%'] });
    const tools = tenantHealth({ ...bad, canary: cohort(100, 0.01, 0.04), control: cohort(100, 0.01, 0.01) });
    expect(tools.reasons).toEqual(['canary invalid tool calls 4.0% vs control 1.0%']);
  });

  it('is degraded when paused, rolled back, or when stable itself fails', () => {
    expect(tenantHealth({ ...quiet, phase: 'paused', reason: 'by ops' }).reasons).toEqual(['paused: by ops']);
    expect(tenantHealth({ ...quiet, phase: 'rolled_back' }).status).toBe('degraded');
    expect(tenantHealth({ ...quiet, control: cohort(200, 0.06) })).toEqual({
      status: 'degraded',
      reasons: ['stable errors 6.0%'],
    });
  });
});

describe('fleet health', () => {
  it('is the share of tenants healthy, weighted by criticality', () => {
    const h = fleetHealth([
      { criticality: 'high', status: 'healthy' },
      { criticality: 'medium', status: 'degraded' },
      { criticality: 'low', status: 'critical' },
    ]);
    // (4 × 1 + 2 × 0.5 + 1 × 0) / (4 + 2 + 1) = 5 / 7
    expect(h).toMatchObject({ score: 71.4, weighted: 5, totalWeight: 7 });
    expect(h.counts).toEqual({ healthy: 1, degraded: 1, critical: 1 });
    expect(fleetHealth([]).score).toBeNull();
    expect(fleetHealth([{ criticality: 'low', status: 'healthy' }]).score).toBe(100);
  });
});
