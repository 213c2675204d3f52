import { describe, expect, it } from 'vitest';
import { decideFault, planLatency, sampleMs } from './faults.js';
import { Rng } from './prng.js';
import { type BehaviourProfile, resolveProfile } from './profile.js';
import { parseSse, post, withSimulator } from './test-support/sim-client.js';

const openAiBody = { model: 'm', messages: [{ role: 'user', content: 'Say something about rivers.' }] };
const anthropicBody = { ...openAiBody, max_tokens: 64 };

function withProfile<T>(profile: BehaviourProfile, fn: Parameters<typeof withSimulator<T>>[1]) {
  return withSimulator({ seed: 1, models: { m: profile } }, fn);
}

describe('injected errors', () => {
  it('429 with retry-after in both formats at rate 1', async () => {
    await withProfile({ errors: { rateLimit: { rate: 1, retryAfterSeconds: 7 } } }, async (sim) => {
      const openai = await post(sim, '/v1/chat/completions', openAiBody);
      expect(openai.status).toBe(429);
      expect(openai.headers.get('retry-after')).toBe('7');
      expect(openai.json().error).toMatchObject({ code: 'rate_limit_exceeded', param: null });
      const anthropic = await post(sim, '/v1/messages', anthropicBody);
      expect(anthropic.status).toBe(429);
      expect(anthropic.headers.get('retry-after')).toBe('7');
      expect(anthropic.json()).toEqual({
        type: 'error',
        error: { type: 'rate_limit_error', message: expect.any(String) },
      });
    });
  });

  it('500 and overloaded (529 Anthropic, 503 OpenAI) in the providers shapes', async () => {
    await withProfile({ errors: { serverError: { rate: 1 } } }, async (sim) => {
      const openai = await post(sim, '/v1/chat/completions', openAiBody);
      expect(openai.status).toBe(500);
      expect(openai.json().error).toMatchObject({ type: 'server_error', code: null });
      const anthropic = await post(sim, '/v1/messages', anthropicBody);
      expect(anthropic.status).toBe(500);
      expect((anthropic.json().error as Record<string, unknown>).type).toBe('api_error');
    });
    await withProfile({ errors: { overloaded: { rate: 1 } } }, async (sim) => {
      expect((await post(sim, '/v1/chat/completions', openAiBody)).status).toBe(503);
      const anthropic = await post(sim, '/v1/messages', anthropicBody);
      expect(anthropic.status).toBe(529);
      expect((anthropic.json().error as Record<string, unknown>).type).toBe('overloaded_error');
    });
  });

  it('never errs at rate 0; at partial rates some repeats fail and others succeed', async () => {
    await withProfile({}, async (sim) => {
      const statuses = await Promise.all(
        Array.from({ length: 20 }, async () => (await post(sim, '/v1/chat/completions', openAiBody)).status),
      );
      expect(new Set(statuses)).toEqual(new Set([200]));
    });
    await withProfile({ errors: { rateLimit: { rate: 0.3 }, serverError: { rate: 0.2 } } }, async (sim) => {
      const statuses = await Promise.all(
        Array.from({ length: 40 }, async () => (await post(sim, '/v1/chat/completions', openAiBody)).status),
      );
      expect(new Set(statuses)).toEqual(new Set([200, 429, 500]));
    });
  });

  it('timeout: the request hangs and the connection is dropped', async () => {
    await withProfile({ errors: { timeout: { rate: 1, hangMs: 30 } } }, async (sim) => {
      await expect(post(sim, '/v1/chat/completions', openAiBody)).rejects.toThrow();
    });
    // A client that gives up first: the simulator must let go of the request (close works).
    await withProfile({ errors: { timeout: { rate: 1, hangMs: 60_000 } } }, async (sim) => {
      const aborted = fetch(`${sim.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify(openAiBody),
        signal: AbortSignal.timeout(30),
      });
      await expect(aborted).rejects.toThrow();
    });
  });

  it('malformed: a streamed reply is cut mid-event with no terminator; a plain body is cut JSON', async () => {
    await withProfile({ errors: { malformed: { rate: 1 } } }, async (sim) => {
      const stream = await post(sim, '/v1/chat/completions', { ...openAiBody, stream: true });
      expect(stream.status).toBe(200);
      const { events, partial } = parseSse(stream.text);
      expect(events.length).toBeGreaterThan(0);
      expect(events.some((e) => e.data === '[DONE]')).toBe(false);
      expect(partial.startsWith('data: {')).toBe(true);
      expect(() => JSON.parse(partial.slice(6))).toThrow();
      const anthropic = await post(sim, '/v1/messages', { ...anthropicBody, stream: true });
      expect(anthropic.text).not.toContain('message_stop');
      const plain = await post(sim, '/v1/chat/completions', openAiBody);
      expect(plain.status).toBe(200);
      expect(() => JSON.parse(plain.text)).toThrow();
    });
  });

  it('non-JSON: a 200 with an HTML body', async () => {
    await withProfile({ errors: { nonJson: { rate: 1 } } }, async (sim) => {
      const res = await post(sim, '/v1/messages', anthropicBody);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(() => JSON.parse(res.text)).toThrow();
    });
  });
});

describe('latency sampling', () => {
  const rng = () => new Rng('latency-test');

  it('fixed gives p50; zero gives zero', () => {
    expect(sampleMs({ distribution: 'fixed', p50Ms: 120 }, rng())).toBe(120);
    expect(sampleMs({ distribution: 'lognormal', p50Ms: 0, p99Ms: 0 }, rng())).toBe(0);
  });

  it.each(['uniform', 'lognormal'] as const)(
    '%s has about the configured median and 99th percentile',
    (distribution) => {
      const r = rng();
      const draws = Array.from({ length: 20_000 }, () =>
        sampleMs({ distribution, p50Ms: 100, p99Ms: 400 }, r),
      ).sort((a, b) => a - b);
      const p50 = draws[Math.floor(draws.length * 0.5)] ?? 0;
      const p99 = draws[Math.floor(draws.length * 0.99)] ?? 0;
      expect(p50).toBeGreaterThan(90);
      expect(p50).toBeLessThan(110);
      expect(p99).toBeGreaterThan(360);
      expect(p99).toBeLessThan(440);
      expect(draws[0]).toBeGreaterThanOrEqual(0);
    },
  );

  it('spreads the time after the first token over the stream unless a chunk delay is set', () => {
    const profile = resolveProfile({ latency: { firstToken: { p50Ms: 100 }, total: { p50Ms: 1100 } } });
    const plan = planLatency(profile.latency, rng());
    expect(plan.firstTokenMs).toBe(100);
    expect(plan.totalMs).toBe(1100);
    expect(plan.interChunkMs(11)).toBe(100);
    const fixed = planLatency(resolveProfile({ latency: { interChunkMs: 5 } }).latency, rng());
    expect(fixed.interChunkMs(11)).toBe(5);
  });

  it('streams with pacing when latency is configured (and still completes)', async () => {
    await withProfile({ latency: { firstToken: { p50Ms: 5 }, interChunkMs: 1 } }, async (sim) => {
      const res = await post(sim, '/v1/chat/completions', { ...openAiBody, stream: true });
      expect(res.text.endsWith('data: [DONE]\n\n')).toBe(true);
    });
  });
});

describe('decideFault', () => {
  it('fails a share of requests close to each rate', () => {
    const errors = resolveProfile({
      errors: { rateLimit: { rate: 0.2 }, serverError: { rate: 0.1 } },
    }).errors;
    const r = new Rng('shares');
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const kind = decideFault(errors, r)?.kind ?? 'none';
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    expect(Math.abs((counts.get('rate_limit') ?? 0) - 2000)).toBeLessThan(200);
    expect(Math.abs((counts.get('server_error') ?? 0) - 1000)).toBeLessThan(150);
    expect([...counts.keys()].sort()).toEqual(['none', 'rate_limit', 'server_error']);
  });

  it('lays the rates end to end over one draw', () => {
    const errors = resolveProfile({
      errors: { rateLimit: { rate: 0.5 }, serverError: { rate: 0.5 } },
    }).errors;
    const kinds = new Set<string>();
    const r = new Rng('faults');
    for (let i = 0; i < 200; i++) kinds.add(decideFault(errors, r)?.kind ?? 'none');
    expect(kinds).toEqual(new Set(['rate_limit', 'server_error']));
  });
});
