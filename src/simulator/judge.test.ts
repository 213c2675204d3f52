import { describe, expect, it } from 'vitest';
import { buildJudgeMessages, type JudgeInput, overlap } from './judge.js';
import { openAiText, post, withSimulator } from './test-support/sim-client.js';

type Json = Record<string, unknown>;

async function judge(inputs: JudgeInput[], profile = {}) {
  return withSimulator(
    { seed: 2, models: { 'sim-judge': { judge: profile }, 'sim-plain': {} } },
    async (sim) => {
      const out: Array<{ score: number; reason: string }> = [];
      for (const input of inputs) {
        const { system, user } = buildJudgeMessages(input);
        const res = await post(sim, '/v1/messages', {
          model: 'sim-judge',
          max_tokens: 400,
          system,
          messages: [{ role: 'user', content: user }],
        });
        const text = String(((res.json().content as Json[])[0] as Json).text);
        out.push(JSON.parse(text) as { score: number; reason: string });
      }
      return out;
    },
  );
}

describe('judge protocol', () => {
  it('scores by token overlap: identical 1, disjoint 0, partial in between', async () => {
    const [same, disjoint, partial, structured] = await judge([
      { golden: 'The invoice total is 42 EUR', candidate: 'The invoice total is 42 EUR' },
      { golden: 'The invoice total is 42 EUR', candidate: 'Weather sunny tomorrow' },
      { rubric: 'same amount', golden: 'The invoice total is 42 EUR', candidate: 'Total: 42 EUR' },
      { golden: { a: 1, b: [2, 3] }, candidate: { b: [2, 3], a: 1 } },
    ]);
    expect(same).toEqual({ score: 1, reason: expect.stringContaining('exactly') });
    expect(disjoint?.score).toBe(0);
    expect(partial?.score).toBe(
      Math.round(overlap('The invoice total is 42 EUR', 'Total: 42 EUR').f1 * 100) / 100,
    );
    expect(partial?.score).toBeGreaterThan(0.4);
    expect(partial?.score).toBeLessThan(1);
    expect(partial?.reason).toContain('Rubric: same amount');
    // Key order does not matter for structured answers.
    expect(structured?.score).toBe(1);
  });

  it('is deterministic, and noise at rate 1 moves scores within the amplitude', async () => {
    const inputs: JudgeInput[] = Array.from({ length: 12 }, (_, i) => ({
      golden: 'alpha beta gamma delta',
      candidate: `alpha beta case ${i}`,
    }));
    const clean = await judge(inputs);
    expect(await judge(inputs)).toEqual(clean);
    const noisy = await judge(inputs, { noiseRate: 1, noiseAmplitude: 0.2 });
    const moved = noisy.filter((v, i) => v.score !== clean[i]?.score);
    expect(moved.length).toBeGreaterThan(6);
    noisy.forEach((v, i) => {
      expect(Math.abs(v.score - (clean[i]?.score ?? 0))).toBeLessThanOrEqual(0.2 + 1e-9);
      expect(v.score).toBeGreaterThanOrEqual(0);
      expect(v.score).toBeLessThanOrEqual(1);
    });
  });

  it('answers unreadable input with score 0 and says why', async () => {
    await withSimulator({ models: { 'sim-judge': { judge: {} } } }, async (sim) => {
      const res = await post(sim, '/v1/chat/completions', {
        model: 'sim-judge',
        messages: [
          { role: 'system', content: 'SWITCHYARD-JUDGE' },
          { role: 'user', content: 'no json here' },
        ],
      });
      const verdict = JSON.parse(openAiText(res.json()) ?? '');
      expect(verdict.score).toBe(0);
      expect(verdict.reason).toMatch(/expected JSON/);
    });
  });

  it('only judge profiles judge; json_in_markdown drift fences the verdict', async () => {
    const { system, user } = buildJudgeMessages({ golden: 'a', candidate: 'a' });
    await withSimulator(
      {
        models: {
          plain: {},
          fenced: { judge: {}, drift: [{ kind: 'json_in_markdown', rate: 1 }] },
        },
      },
      async (sim) => {
        const body = (model: string) => ({
          model,
          messages: [
            { role: 'system', content: system },
            { role: 'user', content: user },
          ],
        });
        const plain = await post(sim, '/v1/chat/completions', body('plain'));
        const plainText = openAiText(plain.json()) ?? '';
        expect(plainText).not.toMatch(/"score"/);
        const fenced = await post(sim, '/v1/chat/completions', body('fenced'));
        const fencedText = openAiText(fenced.json()) ?? '';
        expect(fencedText).toMatch(/^```json\n\{"score":1,/);
      },
    );
  });
});
