import { describe, expect, it } from 'vitest';
import { validateToolCall } from '../contracts/tool-call-validator.js';
import type { Contract } from '../registry/types.js';
import { BoundedFailingCallSampler, sampleOfInvalidCall } from './failing-call-samples.js';

const contract: Contract = {
  id: 'acme:v1:get_forecast',
  tenantId: 'acme',
  modelVersionId: 'v1',
  name: 'get_forecast',
  definition: {
    kind: 'tool',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, days: { type: 'integer' } },
      required: ['city', 'days'],
    },
  },
  version: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};
const contracts = new Map([['get_forecast', contract]]);

function invalid(name: string, argumentsText: string) {
  const outcome = validateToolCall(contracts, { name, argumentsText, id: 'c1' });
  if (outcome.valid) throw new Error('expected an invalid call');
  return outcome;
}

describe('failing call samples', () => {
  it('shows a schema violation with its arguments and where it broke', () => {
    const s = sampleOfInvalidCall(invalid('get_forecast', '{"city":"Lisbon","days":"3"}'), 'req-1', 5);
    expect(s).toMatchObject({
      atMs: 5,
      requestId: 'req-1',
      tool: 'get_forecast',
      arguments: { city: 'Lisbon', days: '3' },
    });
    expect(s.problems[0]).toMatch(/^\/days: expected/);
  });

  it('names the known tools for an unknown one, and the parse problem for broken JSON', () => {
    expect(sampleOfInvalidCall(invalid('get_weather', '{}'), 'r', 1).problems[0]).toMatch(
      /unknown tool 'get_weather' \(the contracts know: get_forecast\)/,
    );
    const broken = sampleOfInvalidCall(invalid('get_forecast', '{"city":'), 'r', 1);
    expect(broken.arguments).toBeNull();
    expect(broken.problems[0]).toMatch(/not valid JSON/);
  });

  it('keeps the newest samples per tenant and version, newest first', async () => {
    const sampler = new BoundedFailingCallSampler({ perKey: 2, maxKeys: 10, maxArgumentChars: 100 });
    for (const id of ['a', 'b', 'c'])
      sampler.record('acme', 'v2', { ...sampleOfInvalidCall(invalid('x', '{}'), id, 1) });
    expect((await sampler.sample('acme', 'v2', 5)).map((s) => s.requestId)).toEqual(['c', 'b']);
    expect(await sampler.sample('other', 'v2', 5)).toEqual([]);
  });
});
