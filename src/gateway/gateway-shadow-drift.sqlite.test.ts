import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../simulator/index.js';
import type { JudgeScore } from '../telemetry/judge-score.js';
import { type Harness, startGatewayHarness } from './test-support/gateway-harness.js';

/**
 * Shadow mode: every stable-served request is replayed against a candidate that renames the
 * `city` argument; the pair feeds the tenant's drift profile and, sampled, the pinned judge.
 */

/** One argument, so the rename drift has exactly one field to rename. */
const FORECAST = {
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
};

let sim: RunningSimulator;
let h: Harness;
const scores: JudgeScore[] = [];

beforeAll(async () => {
  sim = await startSimulator({
    seed: 5,
    models: {
      'sim-stable': {},
      'sim-rename': { drift: [{ kind: 'renamed_argument', rate: 1 }] },
      'sim-judge': { judge: {} },
    },
  });
  const openai = (id: string, channel: string, model: string) => ({
    id,
    channel,
    providerKind: 'openai-compatible' as const,
    upstreamModel: model,
    endpoint: `${sim.url}/v1`,
  });
  h = await startGatewayHarness({
    versions: [
      openai('gpt-1', 'gpt', 'sim-stable'),
      openai('gpt-2', 'gpt', 'sim-rename'),
      openai('judge-1', 'judge', 'sim-judge'),
    ],
    tenants: ['acme', 'globex'].map((id) => ({
      id,
      channels: [
        {
          channel: 'gpt',
          stableVersionId: 'gpt-1',
          candidateVersionId: 'gpt-2',
          shadowPercent: id === 'acme' ? 100 : 0,
          upgradeId: 'u1',
        },
      ],
    })),
    random: () => 0,
    gateway: { judge: { versionId: 'judge-1', sampleRate: 1 } },
    judge: { sink: { record: (s) => scores.push(s) } },
  });
});

afterAll(async () => {
  await h?.close();
  await sim?.close();
});

async function ask(tenant: string, city: string): Promise<void> {
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: h.keys[tenant] ?? '', maxRetries: 0 });
  await client.chat.completions.create({
    model: 'gpt',
    messages: [{ role: 'user', content: `Forecast for ${city}?` }],
    tools: [{ type: 'function', function: { name: 'get_forecast', parameters: FORECAST } }],
    tool_choice: { type: 'function', function: { name: 'get_forecast' } },
  });
}

describe('shadow pairs', () => {
  it('record the renamed field in the tenant drift profile, saved to SQL', async () => {
    for (const city of ['Lisbon', 'Oslo', 'Quito']) await ask('acme', city);
    await ask('globex', 'Lima');
    await h.gateway.settle();
    const view = await h.gateway.drift.profile('acme', 'gpt');
    expect(view?.profile.pairs).toBe(3);
    expect(view?.profile.kinds.field_renamed).toBe(3);
    expect(view?.profile.tools.get_forecast?.fields['/city']?.renamedTo).toEqual({ '/town': 3 });
    expect(view?.rates.kinds.field_renamed).toBe(1);
    // Shadow traffic is stable-served: only the control cohort saw live answers.
    expect(view?.profile.cohorts.control.responses).toBe(3);
    expect(view?.profile.cohorts.canary.responses).toBe(0);
    const stored = await h.db.all<{ tenant_id: string }>(
      'SELECT tenant_id FROM drift_profiles ORDER BY tenant_id',
    );
    expect(stored.map((r) => r.tenant_id)).toEqual(['acme', 'globex']);
    expect((await h.gateway.drift.profile('globex', 'gpt'))?.profile.pairs).toBe(0);
  });

  it('are scored by the pinned judge off the response path, one score per sampled pair', async () => {
    await h.gateway.settle();
    expect(scores).toHaveLength(3);
    for (const s of scores) {
      expect(s).toMatchObject({
        tenantId: 'acme',
        channel: 'gpt',
        stableVersionId: 'gpt-1',
        candidateVersionId: 'gpt-2',
        source: 'shadow',
      });
      expect(s.score).toBeGreaterThanOrEqual(0);
      expect(s.score).toBeLessThan(1);
    }
    expect(h.gateway.stats().judge?.judgeFailures).toBe(0);
  });
});
