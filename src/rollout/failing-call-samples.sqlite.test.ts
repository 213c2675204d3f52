import { describe, expect, it } from 'vitest';
import { SqlShadowResultSink } from '../gateway/shadow/shadow-sink.js';
import { memorySqlite } from '../test-support/registry-fixtures.js';
import {
  BoundedFailingCallSampler,
  CombinedFailingCallSamples,
  ShadowFailingCallSamples,
} from './failing-call-samples.js';

const side = (versionId: string, tool: string, args: string, status = 200) => ({
  versionId,
  status,
  error: null,
  text: null,
  toolCalls: [{ id: null, name: tool, arguments: args }],
  latencyMs: 10,
});

describe('failing call samples', () => {
  it('keeps the newest samples per tenant and version, bounded, with long payloads cut', async () => {
    const s = new BoundedFailingCallSampler({ perKey: 2, maxKeys: 1, maxArgumentChars: 10 });
    for (const i of [1, 2, 3])
      s.record('acme', 'v2', {
        atMs: i,
        sessionId: null,
        requestId: `r${i}`,
        tool: 't',
        arguments: { i },
        problems: [],
      });
    expect((await s.sample('acme', 'v2', 5)).map((x) => x.requestId)).toEqual(['r3', 'r2']);
    s.record('globex', 'v2', {
      atMs: 4,
      sessionId: null,
      requestId: 'g',
      tool: 't',
      arguments: 'x'.repeat(50),
      problems: [],
    });
    expect(await s.sample('acme', 'v2', 5)).toEqual([]);
    expect((await s.sample('globex', 'v2', 5))[0]?.arguments).toBe(`${'x'.repeat(10)}… (50 characters)`);
  });

  it('reads the candidate calls of shadow pairs that failed or chose other tools, for that tenant only', async () => {
    const db = await memorySqlite();
    const base = { sessionId: 's', channel: 'gpt-x', promptHash: null, wire: 'openai' as const };
    await new SqlShadowResultSink(db).append([
      {
        ...base,
        id: 'a',
        atMs: 1,
        tenantId: 'acme',
        requestId: 'same',
        stable: side('v1', 'get_weather', '{"city":"Oslo"}'),
        candidate: side('v2', 'get_weather', '{"city":"Oslo"}'),
      },
      {
        ...base,
        id: 'b',
        atMs: 2,
        tenantId: 'acme',
        requestId: 'other-tool',
        stable: side('v1', 'get_weather', '{}'),
        candidate: side('v2', 'search', '{"q":1}'),
      },
      {
        ...base,
        id: 'c',
        atMs: 3,
        tenantId: 'acme',
        requestId: 'error',
        stable: side('v1', 'x', '{}'),
        candidate: side('v2', 'x', 'not json', 500),
      },
      {
        ...base,
        id: 'd',
        atMs: 4,
        tenantId: 'globex',
        requestId: 'theirs',
        stable: side('v1', 'a', '{}'),
        candidate: side('v2', 'b', '{}'),
      },
    ]);
    const samples = await new ShadowFailingCallSamples(db).sample('acme', 'v2', 5);
    expect(samples.map((s) => [s.requestId, s.arguments, s.problems])).toEqual([
      ['error', 'not json', ['candidate answered HTTP 500']],
      ['other-tool', { q: 1 }, ['called search where stable called get_weather']],
    ]);
    const both = new CombinedFailingCallSamples([
      new ShadowFailingCallSamples(db),
      new BoundedFailingCallSampler(),
    ]);
    expect((await both.sample('acme', 'v2', 1)).map((s) => s.requestId)).toEqual(['error']);
    await db.close();
  });
});
