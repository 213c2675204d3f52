import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSwitchyardError } from '../shared/errors.js';
import { BFCL_DIR } from '../test-support/bfcl.js';
import { defaultProfile, resolveProfile } from './profile.js';
import { loadSimulatorConfig, parseScenarioProfiles } from './scenario-config.js';
import { openAiToolCall, post, withSimulator } from './test-support/sim-client.js';

function errorOf(fn: () => unknown): { message: string; details: Array<{ path: string; message: string }> } {
  try {
    fn();
  } catch (e) {
    if (isSwitchyardError(e)) return { message: e.message, details: e.details };
    throw e;
  }
  throw new Error('expected an error');
}

describe('profiles', () => {
  it('fill every default', () => {
    expect(defaultProfile).toEqual({
      latency: {
        firstToken: { distribution: 'fixed', p50Ms: 0 },
        total: { distribution: 'fixed', p50Ms: 0 },
      },
      errors: {
        rateLimit: { rate: 0, retryAfterSeconds: 1 },
        serverError: { rate: 0 },
        overloaded: { rate: 0 },
        timeout: { rate: 0, hangMs: 30_000 },
        malformed: { rate: 0 },
        nonJson: { rate: 0 },
      },
      toolCallAccuracy: 1,
      drift: [],
      streaming: { chunkChars: 16 },
    });
    expect(resolveProfile({ judge: {} }).judge).toEqual({ noiseRate: 0, noiseAmplitude: 0.3 });
  });

  it('keep what is given and do not share state between resolutions', () => {
    const given = { latency: { total: { distribution: 'lognormal' as const, p50Ms: 200, p99Ms: 900 } } };
    const resolved = resolveProfile(given);
    expect(resolved.latency.total).toEqual({ distribution: 'lognormal', p50Ms: 200, p99Ms: 900 });
    expect(given).toEqual({ latency: { total: { distribution: 'lognormal', p50Ms: 200, p99Ms: 900 } } });
    resolved.drift.push({ kind: 'other_tool', rate: 1 });
    expect(resolveProfile({}).drift).toEqual([]);
  });
});

describe('parseScenarioProfiles', () => {
  it('parses a YAML simulator section', () => {
    const config = parseScenarioProfiles(`
seed: 42
models:
  sim-gpt-2026-03:
    toolCallAccuracy: 0.97
    drift:
      - { kind: number_as_string, rate: 0.2, tools: [get_weather], tenants: [acme] }
  sim-judge:
    judge: { noiseRate: 0.05 }
knownCases:
  cases:
    - messagesMatch: Weather in Paris?
      expected: { name: get_weather, arguments: { city: Paris } }
`);
    expect(config.seed).toBe(42);
    expect(config.models['sim-gpt-2026-03']?.toolCallAccuracy).toBe(0.97);
    expect(config.models['sim-gpt-2026-03']?.drift[0]?.tenants).toEqual(['acme']);
    expect(config.models['sim-judge']?.judge?.noiseRate).toBe(0.05);
    expect(config.knownCases).toEqual({
      bfcl: [],
      cases: [
        {
          messagesMatch: 'Weather in Paris?',
          expected: { name: 'get_weather', arguments: { city: 'Paris' } },
        },
      ],
    });
  });

  it('names the key and what is allowed for every problem', () => {
    const error = errorOf(() =>
      parseScenarioProfiles(
        `
models:
  sim-a:
    latencyy: {}
    drift:
      - { kind: number_as_strng, rate: 2 }
    errors: { rateLimit: { rate: "often" } }
`,
        { source: 'fleet.yaml' },
      ),
    );
    expect(error.message).toMatch(/^invalid fleet\.yaml: /);
    expect(error.details).toEqual(
      expect.arrayContaining([
        {
          path: 'models.sim-a.latencyy',
          message: expect.stringMatching(/^unknown key; allowed keys here: .*latency/),
        },
        {
          path: 'models.sim-a.drift[0].kind',
          message: expect.stringMatching(
            /must be one of number_as_string, renamed_argument, .* \(got "number_as_strng"\)/,
          ),
        },
        { path: 'models.sim-a.drift[0].rate', message: 'must be <= 1 (got 2)' },
        { path: 'models.sim-a.errors.rateLimit.rate', message: 'must be of type number (got "often")' },
      ]),
    );
  });

  it('requires models, rejects unknown top-level keys unless asked not to', () => {
    expect(errorOf(() => parseScenarioProfiles('seed: 1')).details).toEqual([
      { path: 'models', message: 'is required' },
    ]);
    expect(errorOf(() => parseScenarioProfiles('models: {}\nfleet: []')).details[0]?.path).toBe('fleet');
    expect(parseScenarioProfiles('models: {}\nfleet: []', { allowOtherKeys: true }).seed).toBe(1);
    expect(errorOf(() => parseScenarioProfiles('- a list')).message).toMatch(/expected a mapping/);
    expect(errorOf(() => parseScenarioProfiles('models: [')).message).toMatch(/not valid YAML/);
  });
});

describe('loadSimulatorConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads BFCL known cases (paths relative to the file) and drives a simulator', async () => {
    const file = join(dir, 'scenario.yaml');
    await writeFile(
      file,
      `seed: 3
models:
  sim-gpt: {}
knownCases:
  bfcl: [${JSON.stringify(`${BFCL_DIR}/BFCL_v4_simple_python.json`)}]
  cases:
    - { messagesMatch: "ping", expected: { name: pong, arguments: {} } }
`,
    );
    const config = await loadSimulatorConfig(file);
    expect(config.knownCases).toHaveLength(401);
    const sum = await withSimulator(config, async (sim) => {
      const res = await post(sim, '/v1/chat/completions', {
        model: 'sim-gpt',
        messages: [{ role: 'user', content: 'Calculate the factorial of 5 using math functions.' }],
        tools: [
          {
            type: 'function',
            function: { name: 'math_factorial', parameters: { type: 'object', properties: { number: {} } } },
          },
        ],
      });
      return openAiToolCall(res.json());
    });
    expect(sum).toEqual({ name: 'math_factorial', arguments: { number: 5 } });
  });
});
