import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import { InMemoryLogRecordExporter } from '@opentelemetry/sdk-logs';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import * as incubating from '@opentelemetry/semantic-conventions/incubating';
import { afterEach, describe, expect, it } from 'vitest';
import type { TenantVerdict } from '../../bets/run-types.js';
import { ConfigError } from '../../config/load-config.js';
import { ObservedTelemetryStore } from '../observed-store.js';
import { event } from '../rollups/test-support/rollup-fixtures.js';
import {
  GEN_AI,
  GEN_AI_EVENT_EVALUATION_RESULT,
  GEN_AI_OPERATION,
  GEN_AI_PROVIDER,
} from './genai-conventions.js';
import { toolValidationStatus, type VersionInfo } from './genai-spans.js';
import { createObservability, type Observability } from './observability.js';
import type { ObservabilityConfig } from './observability-config.js';
import { createOtlpExport, resolveHeaders } from './otlp-export.js';

const config = (otlp: Partial<ObservabilityConfig['otlp']> = {}): ObservabilityConfig => ({
  metrics: { enabled: true, tenantLabelLimit: 200, channelLabelLimit: 100, processMetrics: false },
  otlp: { headers: {}, serviceName: 'switchyard-test', sampleRatio: 1, exportTimeoutMs: 5000, ...otlp },
});

const versions: Record<string, VersionInfo> = {
  v1: { upstreamModel: 'gpt-5-2026-01-15', providerKind: 'openai-compatible' },
  v2: { upstreamModel: 'claude-sonnet-9', providerKind: 'anthropic' },
};

let obs: Observability | undefined;
afterEach(async () => {
  await obs?.close();
  obs = undefined;
});

function setup(otlp: Partial<ObservabilityConfig['otlp']> = {}) {
  const spans = new InMemorySpanExporter();
  const logs = new InMemoryLogRecordExporter();
  obs = createObservability(config(otlp), {
    versionLookup: (id) => versions[id],
    spanExporter: spans,
    logExporter: logs,
  });
  const store = new ObservedTelemetryStore({ append: async () => {} });
  for (const o of obs.observers) store.add(o);
  return { obs, store, spans, logs };
}

const byName = (spans: ReadableSpan[], name: string) => {
  const s = spans.filter((x) => x.name === name);
  expect(s).toHaveLength(1);
  return s[0]!;
};

describe('GenAI spans from telemetry events', () => {
  it('exports a chat span per request with the GenAI and Switchyard attributes', async () => {
    const { obs, store, spans } = setup();
    const atMs = Date.UTC(2026, 0, 1, 12, 0, 0);
    await store.append([
      event({
        atMs,
        latencyMs: 1234.5,
        requestId: 'req-1',
        tenantId: 'acme',
        sessionId: 'sess-9',
        channel: 'gpt-5',
        versionId: 'v1',
        cohort: 'canary',
        stream: true,
        ttfbMs: 250,
        inputTokens: 812,
        outputTokens: 64,
        taskId: 'task-3',
        toolCallsChecked: 0,
      }),
    ]);
    await obs.flush();
    const s = byName(spans.getFinishedSpans(), 'chat gpt-5');
    expect(s.kind).toBe(SpanKind.CLIENT);
    expect(s.parentSpanContext).toBeUndefined();
    expect(hrTimeToMilliseconds(s.startTime)).toBeCloseTo(atMs, 3);
    expect(hrTimeToMilliseconds(s.endTime)).toBeCloseTo(atMs + 1234.5, 3);
    expect(s.status.code).toBe(SpanStatusCode.UNSET);
    expect(s.resource.attributes['service.name']).toBe('switchyard-test');
    expect(s.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-5',
      'gen_ai.response.model': 'gpt-5-2026-01-15',
      'gen_ai.request.stream': true,
      'gen_ai.response.time_to_first_chunk': 0.25,
      'gen_ai.usage.input_tokens': 812,
      'gen_ai.usage.output_tokens': 64,
      'gen_ai.conversation.id': 'sess-9',
      'switchyard.tenant': 'acme',
      'switchyard.cohort': 'canary',
      'switchyard.session': 'sess-9',
      'switchyard.request.id': 'req-1',
      'switchyard.version': 'v1',
      'switchyard.task.id': 'task-3',
      'http.response.status_code': 200,
    });
    expect(s.attributes['error.type']).toBeUndefined();
  });

  it('names the provider from the version, and marks failed requests as errors', async () => {
    const { obs, store, spans } = setup();
    await store.append([
      event({
        requestId: 'a',
        channel: 'claude',
        versionId: 'v2',
        wire: 'anthropic',
        status: 502,
        errorType: 'upstream_502',
      }),
      // A version no longer in the snapshot: provider from the wire, no response model.
      event({ requestId: 'b', channel: 'old', versionId: 'gone', wire: 'anthropic' }),
    ]);
    await obs.flush();
    const finished = spans.getFinishedSpans();
    const a = byName(finished, 'chat claude');
    expect(a.attributes['gen_ai.provider.name']).toBe('anthropic');
    expect(a.attributes['gen_ai.response.model']).toBe('claude-sonnet-9');
    expect(a.attributes['error.type']).toBe('upstream_502');
    expect(a.status).toEqual({ code: SpanStatusCode.ERROR, message: 'upstream_502' });
    const b = byName(finished, 'chat old');
    expect(b.attributes['gen_ai.provider.name']).toBe('anthropic');
    expect(b.attributes).not.toHaveProperty('gen_ai.response.model');
  });

  it('adds an execute_tool child span per tool call with its validation status', async () => {
    const { obs, store, spans } = setup();
    const atMs = Date.UTC(2026, 0, 1);
    await store.append([
      event({
        atMs,
        latencyMs: 500,
        requestId: 'tools',
        channel: 'gpt-5',
        toolNames: ['search_flights', 'book_hotel'],
        toolCallsChecked: 2,
        toolCallsInvalid: 2,
        invalidKinds: ['type', 'required'],
        policyAction: 'error',
        errorType: 'tool_call_invalid',
        status: 422,
      }),
    ]);
    await obs.flush();
    const finished = spans.getFinishedSpans();
    expect(finished).toHaveLength(3);
    const parent = byName(finished, 'chat gpt-5');
    expect(parent.attributes).toMatchObject({
      'switchyard.validation.tool_calls.checked': 2,
      'switchyard.validation.tool_calls.invalid': 2,
      'switchyard.validation.invalid_kinds': ['type', 'required'],
      'switchyard.validation.policy_action': 'error',
    });
    const search = byName(finished, 'execute_tool search_flights');
    const book = byName(finished, 'execute_tool book_hotel');
    for (const [tool, name, kind, index] of [
      [search, 'search_flights', 'type', 0],
      [book, 'book_hotel', 'required', 1],
    ] as const) {
      expect(tool.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      expect(tool.spanContext().traceId).toBe(parent.spanContext().traceId);
      expect(tool.kind).toBe(SpanKind.INTERNAL);
      expect(tool.attributes).toMatchObject({
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': name,
        'gen_ai.tool.type': 'function',
        'switchyard.tool.index': index,
        'switchyard.validation.status': 'invalid',
        'error.type': kind,
      });
      expect(tool.status.code).toBe(SpanStatusCode.ERROR);
      expect(hrTimeToMilliseconds(tool.startTime)).toBeCloseTo(atMs + 500, 3);
    }
  });

  it('derives a tool call status from the request counts', () => {
    const two = { toolNames: ['a', 'b'] };
    expect(toolValidationStatus(event({ ...two, toolCallsChecked: 0 }))).toBe('unchecked');
    expect(toolValidationStatus(event({ ...two, toolCallsChecked: 2 }))).toBe('valid');
    expect(toolValidationStatus(event({ ...two, toolCallsChecked: 1 }))).toBe('mixed');
    expect(toolValidationStatus(event({ ...two, toolCallsChecked: 2, toolCallsInvalid: 1 }))).toBe('mixed');
    expect(toolValidationStatus(event({ ...two, toolCallsChecked: 2, toolCallsInvalid: 2 }))).toBe('invalid');
  });

  it('samples by the configured ratio: 0 exports no spans at all', async () => {
    const { obs, store, spans } = setup({ sampleRatio: 0 });
    await store.append([event({ toolNames: ['search'] }), event({ requestId: 'r2' })]);
    await obs.flush();
    expect(spans.getFinishedSpans()).toEqual([]);
  });

  it('emits a BETS verdict as gen_ai.evaluation.result events: the gate and one per assertion kind', async () => {
    const { obs, logs } = setup();
    const verdict: TenantVerdict = {
      tenantId: 'acme',
      channel: 'gpt-5',
      candidateVersionId: 'v2',
      upgradeId: 'up-7',
      outcome: 'fail',
      kinds: [
        { kind: 'tool_call', passed: 45, total: 50, rate: 0.9, threshold: 0.98, ok: false },
        { kind: 'format', passed: 50, total: 50, rate: 1, threshold: 0.95, ok: true },
      ],
      runIds: ['run-1', 'run-2'],
      reasons: ['tool_call pass rate 0.90 is below 0.98'],
      decidedAt: '2026-03-01T10:00:00.000Z',
    };
    obs.recordVerdict(verdict);
    obs.recordVerdict({ ...verdict, outcome: 'pending', kinds: [] });
    await obs.flush();
    const records = logs.getFinishedLogRecords();
    expect(records.map((r) => r.eventName)).toEqual([
      GEN_AI_EVENT_EVALUATION_RESULT,
      GEN_AI_EVENT_EVALUATION_RESULT,
      GEN_AI_EVENT_EVALUATION_RESULT,
    ]);
    const [gate, toolCall, format] = records;
    expect(gate!.attributes).toMatchObject({
      'gen_ai.evaluation.name': 'switchyard.bets.gate',
      'gen_ai.evaluation.score.label': 'fail',
      'gen_ai.evaluation.explanation': 'tool_call pass rate 0.90 is below 0.98',
      'gen_ai.request.model': 'gpt-5',
      'switchyard.tenant': 'acme',
      'switchyard.version': 'v2',
      'switchyard.upgrade': 'up-7',
      'switchyard.bets.run_ids': ['run-1', 'run-2'],
    });
    expect(gate!.attributes).not.toHaveProperty('gen_ai.evaluation.score.value');
    expect(hrTimeToMilliseconds(gate!.hrTime)).toBe(Date.parse('2026-03-01T10:00:00.000Z'));
    expect(toolCall!.attributes).toMatchObject({
      'gen_ai.evaluation.name': 'switchyard.bets.tool_call',
      'gen_ai.evaluation.score.value': 0.9,
      'gen_ai.evaluation.score.label': 'fail',
      'switchyard.bets.threshold': 0.98,
    });
    expect(format!.attributes).toMatchObject({
      'gen_ai.evaluation.name': 'switchyard.bets.format',
      'gen_ai.evaluation.score.value': 1,
      'gen_ai.evaluation.score.label': 'pass',
    });
  });

  it('counts the verdict in the metrics too', async () => {
    const { obs } = setup();
    obs.recordVerdict({
      tenantId: 'acme',
      channel: 'gpt-5',
      candidateVersionId: 'v2',
      upgradeId: '',
      outcome: 'pass',
      kinds: [],
      runIds: [],
      reasons: [],
      decidedAt: '2026-03-01T10:00:00.000Z',
    });
    expect(await obs.metrics!.metrics()).toContain(
      'switchyard_bets_verdicts_total{tenant="acme",channel="gpt-5",outcome="pass"} 1',
    );
  });
});

describe('OTLP export configuration', () => {
  it('builds nothing without an endpoint', () => {
    expect(createOtlpExport(config().otlp)).toBeNull();
    const o = createObservability(config());
    expect(o.otlp).toBeNull();
    expect(o.observers).toEqual([o.metrics]);
    expect(
      createObservability({ ...config(), metrics: { ...config().metrics, enabled: false } }).observers,
    ).toEqual([]);
  });

  it('reads env: header values from the environment and refuses missing ones', () => {
    expect(
      resolveHeaders({ 'x-api-key': 'env:COLLECTOR_KEY', 'x-team': 'ml' }, { COLLECTOR_KEY: 'k1' }),
    ).toEqual({
      'x-api-key': 'k1',
      'x-team': 'ml',
    });
    expect(() => resolveHeaders({ 'x-api-key': 'env:COLLECTOR_KEY' }, {})).toThrow(ConfigError);
  });
});

describe('GenAI convention names', () => {
  it('match the installed @opentelemetry/semantic-conventions', () => {
    expect(GEN_AI).toEqual({
      operationName: incubating.ATTR_GEN_AI_OPERATION_NAME,
      providerName: incubating.ATTR_GEN_AI_PROVIDER_NAME,
      requestModel: incubating.ATTR_GEN_AI_REQUEST_MODEL,
      requestStream: incubating.ATTR_GEN_AI_REQUEST_STREAM,
      responseModel: incubating.ATTR_GEN_AI_RESPONSE_MODEL,
      responseTimeToFirstChunk: incubating.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
      conversationId: incubating.ATTR_GEN_AI_CONVERSATION_ID,
      usageInputTokens: incubating.ATTR_GEN_AI_USAGE_INPUT_TOKENS,
      usageOutputTokens: incubating.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
      toolName: incubating.ATTR_GEN_AI_TOOL_NAME,
      toolType: incubating.ATTR_GEN_AI_TOOL_TYPE,
      evaluationName: incubating.ATTR_GEN_AI_EVALUATION_NAME,
      evaluationScoreValue: incubating.ATTR_GEN_AI_EVALUATION_SCORE_VALUE,
      evaluationScoreLabel: incubating.ATTR_GEN_AI_EVALUATION_SCORE_LABEL,
      evaluationExplanation: incubating.ATTR_GEN_AI_EVALUATION_EXPLANATION,
    });
    expect(GEN_AI_OPERATION).toEqual({
      chat: incubating.GEN_AI_OPERATION_NAME_VALUE_CHAT,
      executeTool: incubating.GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
    });
    expect(GEN_AI_PROVIDER).toEqual({
      openai: incubating.GEN_AI_PROVIDER_NAME_VALUE_OPENAI,
      anthropic: incubating.GEN_AI_PROVIDER_NAME_VALUE_ANTHROPIC,
    });
    expect(GEN_AI_EVENT_EVALUATION_RESULT).toBe(incubating.EVENT_GEN_AI_EVALUATION_RESULT);
  });
});
