import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FailurePolicy } from '../registry/types.js';
import { type RunningSimulator, startSimulator } from '../simulator/index.js';
import type { TelemetryEvent } from '../telemetry/telemetry-event.js';
import type { GatewayLogger } from './gateway-types.js';
import { type Harness, startGatewayHarness } from './test-support/gateway-harness.js';

/**
 * The schema compatibility layer through the official SDKs: a candidate that sends `days` as a
 * string (the simulator's number_as_string drift) against a contract that wants an integer, for
 * each failure policy, both wire formats, plain and streamed.
 */

const FORECAST = {
  type: 'object',
  properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1, maximum: 14 } },
  required: ['city', 'days'],
  additionalProperties: false,
};
const WEATHER = {
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
  additionalProperties: false,
};
const VERSIONS = ['gpt-1', 'gpt-2', 'claude-1', 'claude-2'];
const POLICIES: FailurePolicy[] = ['fallback', 'error', 'coerce', 'pass'];

let sim: RunningSimulator;
let h: Harness;
const infoLogs: Array<Record<string, unknown>> = [];
const logger: GatewayLogger = {
  info: ((obj: unknown) => {
    if (typeof obj === 'object' && obj !== null) infoLogs.push(obj as Record<string, unknown>);
  }) as GatewayLogger['info'],
  warn: (() => {}) as GatewayLogger['warn'],
  error: (() => {}) as GatewayLogger['error'],
};

beforeAll(async () => {
  sim = await startSimulator({
    seed: 11,
    models: {
      'sim-stable': {},
      'sim-drift': { drift: [{ kind: 'number_as_string', rate: 1, tools: ['get_forecast'] }] },
    },
  });
  const version = (id: string, channel: string, anthropic: boolean, model: string) => ({
    id,
    channel,
    providerKind: anthropic ? ('anthropic' as const) : ('openai-compatible' as const),
    upstreamModel: model,
    endpoint: anthropic ? sim.url : `${sim.url}/v1`,
  });
  h = await startGatewayHarness({
    versions: [
      version('gpt-1', 'gpt', false, 'sim-stable'),
      version('gpt-2', 'gpt', false, 'sim-drift'),
      version('claude-1', 'claude', true, 'sim-stable'),
      version('claude-2', 'claude', true, 'sim-drift'),
    ],
    tenants: [
      // Contracts registered on the stable version only: the candidate is held to them too.
      {
        id: 't-stable-only',
        failurePolicy: 'error' as const,
        channels: [
          {
            channel: 'gpt',
            stableVersionId: 'gpt-1',
            candidateVersionId: 'gpt-2',
            canaryPercent: 100,
            upgradeId: 'u1',
          },
        ],
        contracts: [
          {
            modelVersionId: 'gpt-1',
            name: 'get_forecast',
            definition: { kind: 'tool' as const, parameters: FORECAST },
          },
          {
            modelVersionId: 'gpt-1',
            name: 'get_weather',
            definition: { kind: 'tool' as const, parameters: WEATHER },
          },
        ],
      },
      ...POLICIES.map((policy) => ({
        id: `t-${policy}`,
        failurePolicy: policy,
        channels: [
          {
            channel: 'gpt',
            stableVersionId: 'gpt-1',
            candidateVersionId: 'gpt-2',
            canaryPercent: 100,
            upgradeId: 'u1',
          },
          {
            channel: 'claude',
            stableVersionId: 'claude-1',
            candidateVersionId: 'claude-2',
            canaryPercent: 100,
            upgradeId: 'u1',
          },
        ],
        contracts: VERSIONS.flatMap((modelVersionId) => [
          {
            modelVersionId,
            name: 'get_forecast',
            definition: { kind: 'tool' as const, parameters: FORECAST },
          },
          { modelVersionId, name: 'get_weather', definition: { kind: 'tool' as const, parameters: WEATHER } },
        ]),
      })),
    ],
    // The default 2% cap would refuse the third repair of these few calls; the cap has its own tests.
    gateway: { validation: { coercionCap: 0.5 } },
    logger,
  });
});

afterAll(async () => {
  await h?.close();
  await sim?.close();
});

interface Answer {
  args: Record<string, unknown>;
  version: string | null;
}

const PROMPT = 'What is the forecast for Lisbon for the next 3 days?';

async function askOpenAi(tenant: string, stream: boolean, tool = 'get_forecast'): Promise<Answer> {
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: h.keys[tenant] ?? '', maxRetries: 0 });
  const params = {
    model: 'gpt',
    messages: [{ role: 'user' as const, content: PROMPT }],
    tools: [
      { type: 'function' as const, function: { name: 'get_forecast', parameters: FORECAST } },
      { type: 'function' as const, function: { name: 'get_weather', parameters: WEATHER } },
    ],
    tool_choice: { type: 'function' as const, function: { name: tool } },
  };
  if (stream) {
    const runner = client.chat.completions.stream(params);
    const final = await runner.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    return {
      args: JSON.parse(call?.type === 'function' ? call.function.arguments : '{}') as Record<string, unknown>,
      version: null,
    };
  }
  const { data, response } = await client.chat.completions.create(params).withResponse();
  const call = data.choices[0]?.message.tool_calls?.[0];
  return {
    args: JSON.parse(call?.type === 'function' ? call.function.arguments : '{}') as Record<string, unknown>,
    version: response.headers.get('x-switchyard-version'),
  };
}

async function askAnthropic(tenant: string, stream: boolean, tool = 'get_forecast'): Promise<Answer> {
  const client = new Anthropic({ baseURL: h.url, apiKey: h.keys[tenant] ?? '', maxRetries: 0 });
  const params = {
    model: 'claude',
    max_tokens: 200,
    messages: [{ role: 'user' as const, content: PROMPT }],
    tools: [
      { name: 'get_forecast', input_schema: FORECAST as Anthropic.Tool.InputSchema },
      { name: 'get_weather', input_schema: WEATHER as Anthropic.Tool.InputSchema },
    ],
    tool_choice: { type: 'tool' as const, name: tool },
  };
  const message = stream
    ? await client.messages.stream(params).finalMessage()
    : await client.messages.create(params);
  const use = message.content.find((b) => b.type === 'tool_use');
  return { args: (use?.type === 'tool_use' ? use.input : {}) as Record<string, unknown>, version: null };
}

const ask = (wire: string, tenant: string, stream: boolean, tool?: string) =>
  wire === 'openai' ? askOpenAi(tenant, stream, tool) : askAnthropic(tenant, stream, tool);

async function lastEvent(tenant: string): Promise<TelemetryEvent> {
  await h.gateway.settle();
  const [event] = await h.telemetry.recent(tenant, 1);
  if (!event) throw new Error(`no telemetry for ${tenant}`);
  return event;
}

const CASES = [
  { wire: 'openai', stream: false },
  { wire: 'openai', stream: true },
  { wire: 'anthropic', stream: false },
  { wire: 'anthropic', stream: true },
] as const;
const candidateOf = (wire: string) => (wire === 'openai' ? 'gpt-2' : 'claude-2');
const stableOf = (wire: string) => (wire === 'openai' ? 'gpt-1' : 'claude-1');

describe.each(CASES)('$wire, stream $stream', ({ wire, stream }) => {
  it('passes a valid call untouched and records it as checked', async () => {
    const { args } = await ask(wire, 't-error', stream, 'get_weather');
    expect(Object.keys(args)).toEqual(['city']);
    expect(typeof args.city).toBe('string');
    expect(await lastEvent('t-error')).toMatchObject({
      versionId: candidateOf(wire),
      stream,
      status: 200,
      toolNames: ['get_weather'],
      toolCallsChecked: 1,
      toolCallsInvalid: 0,
      invalidKinds: [],
      toolCallsCoerced: 0,
      policyAction: null,
      errorType: null,
    });
  });

  it('fallback: the drifted call is replaced by the stable answer', async () => {
    const { args, version } = await ask(wire, 't-fallback', stream);
    expect(typeof args.days).toBe('number');
    if (version !== null) expect(version).toBe(stableOf(wire));
    expect(await lastEvent('t-fallback')).toMatchObject({
      versionId: stableOf(wire),
      cohort: 'canary',
      status: 200,
      fallback: 'tool_call_invalid',
      toolCallsChecked: 1,
      toolCallsInvalid: 1,
      invalidKinds: ['type'],
      policyAction: 'fallback',
    });
  });

  it('error: the SDK raises a 422 carrying the self-correction report', async () => {
    const err = (await ask(wire, 't-error', stream).then(
      () => null,
      (e: unknown) => e,
    )) as { status?: number; error?: unknown } | null;
    expect(err).not.toBeNull();
    expect(err?.status).toBe(422);
    const body = err?.error as { switchyard?: unknown; error?: { switchyard?: unknown } };
    const report = (body.switchyard ?? body.error?.switchyard) as {
      type: string;
      errors: Array<{ kind: string; tool: string; errors: Array<{ path: string; keyword: string }> }>;
    };
    expect(report.type).toBe('switchyard.tool_call_errors');
    expect(report.errors[0]).toMatchObject({
      kind: 'schema_violation',
      tool: 'get_forecast',
      errors: [{ path: '/days', keyword: 'type' }],
    });
    expect(await lastEvent('t-error')).toMatchObject({
      versionId: candidateOf(wire),
      status: 422,
      errorType: 'tool_call_invalid',
      toolCallsInvalid: 1,
      policyAction: 'error',
    });
  });

  it('coerce: the numeric string becomes a number, and the repair is logged', async () => {
    infoLogs.length = 0;
    const { args, version } = await ask(wire, 't-coerce', stream);
    expect(typeof args.days).toBe('number');
    if (version !== null) expect(version).toBe(candidateOf(wire));
    const log = infoLogs.find((l) => l.event === 'tool_call_coerced');
    expect(log).toMatchObject({ tenantId: 't-coerce', versionId: candidateOf(wire), tool: 'get_forecast' });
    const before = log?.before as { days?: unknown } | undefined;
    const after = log?.after as { days?: unknown } | undefined;
    expect(typeof before?.days).toBe('string');
    expect(after?.days).toBe(Number(before?.days));
    expect(await lastEvent('t-coerce')).toMatchObject({
      versionId: candidateOf(wire),
      status: 200,
      toolCallsInvalid: 1,
      toolCallsCoerced: 1,
      policyAction: 'coerce',
    });
  });

  it('pass: the drifted call goes out as it is and is recorded', async () => {
    const { args } = await ask(wire, 't-pass', stream);
    expect(typeof args.days).toBe('string');
    expect(await lastEvent('t-pass')).toMatchObject({
      versionId: candidateOf(wire),
      status: 200,
      toolCallsInvalid: 1,
      invalidKinds: ['type'],
      toolCallsCoerced: 0,
      policyAction: 'pass',
    });
  });
});

describe('a candidate without contracts of its own', () => {
  it("is held to the stable version's contracts", async () => {
    const err = (await askOpenAi('t-stable-only', false).then(
      () => null,
      (e: unknown) => e,
    )) as { status?: number } | null;
    expect(err?.status).toBe(422);
    expect(await lastEvent('t-stable-only')).toMatchObject({
      versionId: 'gpt-2',
      toolCallsChecked: 1,
      toolCallsInvalid: 1,
      invalidKinds: ['type'],
      policyAction: 'error',
    });
  });
});

describe('drift across cohorts', () => {
  it('feeds every answered request into the channel profile, canary and control apart', async () => {
    await h.gateway.settle();
    const view = await h.gateway.drift.profile('t-pass', 'gpt');
    expect(view).toMatchObject({ channel: 'gpt', stableVersionId: 'gpt-1', candidateVersionId: 'gpt-2' });
    const canary = view?.profile.cohorts.canary;
    expect(canary?.responses).toBeGreaterThanOrEqual(2);
    expect(canary?.tools.get_forecast?.fields['/days']?.types).toMatchObject({ string: expect.any(Number) });
    // Another tenant's traffic never shows in this tenant's profiles.
    expect((await h.gateway.drift.list('t-pass')).every((v) => v.profile.tenantId === 't-pass')).toBe(true);
    expect(await h.gateway.drift.profile('t-pass', 'no-such-channel')).toBeNull();
  });
});
