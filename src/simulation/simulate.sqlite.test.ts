import { describe, expect, it } from 'vitest';
import { DEMO_FLEET } from '../fleet/demo-fleet.js';
import { runSimulation, type SimulationResult } from './run-simulation.js';
import { parseScenario } from './scenario.js';

/**
 * Whole upgrade events on the fake clock, through the real controller, guard, BETS (against the
 * provider simulator) and rollups. A small fleet keeps it quick: a pioneer, an early adopter, a
 * standard tenant and a conservative one, all from the demo fleet.
 */
const pick = (...ids: string[]) => ({
  ...DEMO_FLEET,
  tenants: DEMO_FLEET.tenants.filter((t) => ids.includes(t.id)),
});
const FLEET = pick('math-tutor', 'support-bot', 'logistics-planner', 'legal-summarizer');

const outcome = (r: SimulationResult, tenantId: string) => r.tenants.find((t) => t.tenantId === tenantId);

describe('switchyard simulate', () => {
  it('a clean upgrade: the pioneer and the early adopter complete with no rollback, in order', async () => {
    const r = await runSimulation(
      parseScenario({ seed: 3, days: 3, trafficScale: 0.5, fleet: pick('math-tutor', 'support-bot') }),
    );
    expect(outcome(r, 'math-tutor')?.phase).toBe('complete');
    expect(outcome(r, 'support-bot')?.phase).toBe('complete');
    expect(r.incidents).toEqual([]);
    expect(r.timeline.some((e) => e.to.startsWith('rolling_back'))).toBe(false);
    // The early adopter went through its 10% stage before 100%.
    const support = r.timeline.filter((e) => e.tenantId === 'support-bot').map((e) => e.to);
    expect(support).toContain('canary 1 (10%)');
    expect(support.indexOf('canary 1 (10%)')).toBeLessThan(support.indexOf('canary 2 (100%)'));
  }, 120_000);

  it('drift at BETS blocks that tenant; a live-only regression is rolled back in canary; a conservative tenant waits for both approvals', async () => {
    const r = await runSimulation(
      parseScenario({
        seed: 7,
        days: 4,
        trafficScale: 0.5,
        fleet: FLEET,
        simulator: {
          models: {
            'sim-2026-06': { drift: [{ kind: 'number_as_string', rate: 1, tenants: ['logistics-planner'] }] },
          },
        },
        behaviour: {
          incidents: [
            { tenant: 'support-bot', version: 'assistant-2026-06', fromHour: 8, toolCallFailureRate: 0.1 },
          ],
        },
        // Only the platform approves: the tenant's own contact never does.
        approvals: [
          { tenant: 'legal-summarizer', party: 'platform', by: 'alice', afterHours: 1, repeat: true },
        ],
      }),
    );
    const logistics = outcome(r, 'logistics-planner');
    expect(logistics?.phase).toBe('blocked');
    expect(logistics?.reason).toMatch(/BETS verdict: fail/);
    expect(logistics?.canarySessions).toBe(0);

    const support = outcome(r, 'support-bot');
    expect(support?.phase).toBe('rolled_back');
    expect(r.incidents.map((i) => i.tenantId)).toEqual(['support-bot']);
    const steps = r.timeline.filter((e) => e.tenantId === 'support-bot').map((e) => e.to);
    expect(steps).toEqual(
      expect.arrayContaining([
        'rolling_back:freeze',
        'rolling_back:drain',
        'rolling_back:cut',
        'rolled_back',
      ]),
    );
    const rolledBack = r.timeline.find((e) => e.tenantId === 'support-bot' && e.to === 'rolled_back');
    expect(rolledBack?.hour).toBeGreaterThan(8);

    const legal = outcome(r, 'legal-summarizer');
    expect(legal?.phase).toBe('awaiting_approval');
    expect(legal?.canarySessions).toBe(0);

    expect(outcome(r, 'math-tutor')?.phase).toBe('complete');
  }, 180_000);
});
