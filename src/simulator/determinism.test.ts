import { describe, expect, it } from 'vitest';
import { fnv1a32, Rng } from './prng.js';
import type { BehaviourProfile } from './profile.js';
import { post, withSimulator } from './test-support/sim-client.js';

const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'search_hotels',
      description: 'Search hotels in a city for a number of nights',
      parameters: {
        type: 'object',
        properties: {
          city: { type: 'string' },
          nights: { type: 'integer', minimum: 1, maximum: 30 },
          budget: { type: 'number' },
          pets: { type: 'boolean' },
        },
        required: ['city', 'nights', 'budget', 'pets'],
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'convert_currency',
      description: 'Convert an amount between currencies',
      parameters: {
        type: 'object',
        properties: { amount: { type: 'number' }, from: { type: 'string' }, to: { type: 'string' } },
        required: ['amount', 'from', 'to'],
      },
    },
  },
];

/** A noisy model: errors, inaccuracy and drift all draw from the PRNG. */
const NOISY: BehaviourProfile = {
  toolCallAccuracy: 0.6,
  errors: { rateLimit: { rate: 0.15 }, serverError: { rate: 0.1 } },
  drift: [
    { kind: 'number_as_string', rate: 0.3 },
    { kind: 'changed_wording', rate: 0.5 },
  ],
};

const PROMPTS = [
  'Find a hotel in Rome.',
  'Any hotels in Oslo?',
  'Convert money please.',
  'Tell me about the Alps.',
  'Describe the history of jazz.',
];

/** Requests with repeats: the i-th prompt is sent several times. */
const REQUESTS = Array.from({ length: 30 }, (_, i) => ({
  key: i,
  body: {
    model: 'noisy',
    messages: [{ role: 'user', content: PROMPTS[i % PROMPTS.length] }],
    ...(i % 2 === 0 ? { tools: TOOLS } : {}),
  },
}));

/** Each response reduced to what a model decides: status and content (ids included). */
async function run(seed: number, order: 'forward' | 'reverse' | 'concurrent') {
  return withSimulator({ seed, models: { noisy: NOISY } }, async (sim) => {
    const send = async (r: (typeof REQUESTS)[number]) => {
      const res = await post(sim, '/v1/chat/completions', r.body);
      const body = res.json();
      const outcome = res.status === 200 ? JSON.stringify([body.id, body.choices]) : JSON.stringify(body);
      return `${res.status} ${outcome}`;
    };
    const results = new Map<number, string>();
    if (order === 'concurrent') {
      const outs = await Promise.all(REQUESTS.map(send));
      REQUESTS.forEach((r, i) => {
        results.set(r.key, outs[i] ?? '');
      });
    } else {
      const list = order === 'forward' ? REQUESTS : [...REQUESTS].reverse();
      for (const r of list) results.set(r.key, await send(r));
    }
    return results;
  });
}

/**
 * Per distinct request, the multiset of outcomes of its repeats: ordering can swap which repeat
 * of two identical requests got which outcome, never the outcomes themselves.
 */
function byRequest(results: Map<number, string>): string[] {
  const groups = new Map<string, string[]>();
  for (const r of REQUESTS) {
    const k = JSON.stringify(r.body);
    groups.set(k, [...(groups.get(k) ?? []), results.get(r.key) ?? '']);
  }
  return [...groups.values()].map((g) => g.sort().join('\n'));
}

describe('determinism', () => {
  it('the same seed replays the same responses, in any order and under concurrency', async () => {
    const forward = await run(42, 'forward');
    const again = await run(42, 'forward');
    expect([...again]).toEqual([...forward]);
    expect(byRequest(await run(42, 'reverse'))).toEqual(byRequest(forward));
    expect(byRequest(await run(42, 'concurrent'))).toEqual(byRequest(forward));
    // The run exercised the noise: some errors, some successes.
    const statuses = [...forward.values()].map((v) => v.slice(0, 3));
    expect(new Set(statuses).size).toBeGreaterThan(1);
  });

  it('a different seed gives different responses', async () => {
    const a = await run(42, 'forward');
    const b = await run(43, 'forward');
    const strip = (v: string) => v.replace(/"id":"[^"]*"/g, '');
    const differing = REQUESTS.filter((r) => strip(a.get(r.key) ?? '') !== strip(b.get(r.key) ?? ''));
    expect(differing.length).toBeGreaterThan(REQUESTS.length / 4);
  });
});

describe('prng', () => {
  it('FNV-1a matches the reference values', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('is reproducible per label, independent per fork, and roughly uniform', () => {
    const a = new Rng('x');
    const b = new Rng('x');
    const seqA = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(seqA);
    expect(new Rng('x').fork('y').nextUint32()).not.toBe(new Rng('x').fork('z').nextUint32());
    const r = new Rng('uniform');
    const buckets = new Array(10).fill(0) as number[];
    for (let i = 0; i < 10_000; i++) {
      const k = Math.floor(r.next() * 10);
      buckets[k] = (buckets[k] ?? 0) + 1;
    }
    for (const n of buckets) expect(Math.abs(n - 1000)).toBeLessThan(150);
    expect(new Rng('c').chance(0)).toBe(false);
    expect(new Rng('c').chance(1)).toBe(true);
    const ints = new Set(Array.from({ length: 200 }, () => r.int(3, 5)));
    expect(ints).toEqual(new Set([3, 4, 5]));
    expect(r.id(24)).toMatch(/^[A-Za-z0-9]{24}$/);
  });
});
