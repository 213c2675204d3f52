import { describe, expect, it } from 'vitest';
import { validateOutputFormat } from './output-format-validator.js';
import { makeContract, toolContract } from './test-support/contract-fixtures.js';

const ticket = makeContract('ticket', {
  kind: 'format_json_schema',
  schema: {
    type: 'object',
    properties: { id: { type: 'integer' }, status: { enum: ['open', 'closed'] } },
    required: ['id', 'status'],
  },
});
const verdict = makeContract('verdict', { kind: 'format_regex', pattern: '^VERDICT: (yes|no)$', flags: 'm' });

describe('validateOutputFormat', () => {
  it('passes text that satisfies any one format contract and names it', () => {
    expect(validateOutputFormat([ticket, verdict], '{"id":1,"status":"open"}')).toEqual({
      valid: true,
      matched: 'ticket',
    });
    expect(validateOutputFormat([ticket, verdict], 'Thinking...\nVERDICT: yes')).toEqual({
      valid: true,
      matched: 'verdict',
    });
  });

  it('has nothing to check without format contracts (tool contracts are ignored)', () => {
    expect(validateOutputFormat([toolContract('t', {})], 'anything')).toEqual({ valid: true, matched: null });
  });

  it('reports JSON in markdown fences as its own kind, with the inner violations', () => {
    const ok = validateOutputFormat([ticket], '```json\n{"id":1,"status":"open"}\n```');
    expect(ok).toMatchObject({
      valid: false,
      kind: 'json_in_markdown',
      failures: [{ contract: 'ticket', violations: [] }],
    });
    const bad = validateOutputFormat([ticket], 'Sure!\n```json\n{"id":"1","status":"open"}\n```');
    expect(bad).toMatchObject({
      kind: 'json_in_markdown',
      failures: [{ violations: [{ path: '/id', keyword: 'type', expected: 'integer', got: 'string "1"' }] }],
    });
  });

  it('reports schema violations, invalid JSON and regex mismatches, most telling kind first', () => {
    expect(validateOutputFormat([ticket], '{"id":1,"status":"pending"}')).toMatchObject({
      kind: 'schema_violation',
      failures: [{ violations: [{ path: '/status', keyword: 'enum' }] }],
    });
    expect(validateOutputFormat([ticket], 'The ticket is open.')).toMatchObject({ kind: 'invalid_json' });
    expect(validateOutputFormat([verdict], 'VERDICT: maybe')).toMatchObject({ kind: 'regex_mismatch' });
    const both = validateOutputFormat([verdict, ticket], '{"id":1}');
    expect(both).toMatchObject({ kind: 'schema_violation' });
    if (!both.valid) expect(both.failures.map((f) => f.kind)).toEqual(['regex_mismatch', 'schema_violation']);
  });
});
