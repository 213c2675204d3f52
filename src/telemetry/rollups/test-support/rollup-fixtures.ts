import type { TelemetryEvent } from '../../telemetry-event.js';
import { emptyCounts, type RollupCounts, type RollupRow } from '../rollup-types.js';

/** A telemetry event with defaults: a successful non-streaming OpenAI request. */
export function event(over: Partial<TelemetryEvent> = {}): TelemetryEvent {
  return {
    atMs: Date.UTC(2026, 0, 1),
    requestId: 'req',
    tenantId: 'alpha',
    keyId: 'key',
    sessionId: 's',
    channel: 'gpt-x',
    versionId: 'v1',
    cohort: 'stable',
    wire: 'openai',
    stream: false,
    status: 200,
    errorType: null,
    fallback: null,
    sessionReset: false,
    toolNames: [],
    latencyMs: 100,
    ttfbMs: null,
    inputTokens: null,
    outputTokens: null,
    promptHash: null,
    shadowed: false,
    taskId: null,
    toolCallsChecked: 0,
    toolCallsInvalid: 0,
    invalidKinds: [],
    toolCallsCoerced: 0,
    formatValid: null,
    policyAction: null,
    ...over,
  };
}

/** A stored rollup row with defaults. */
export function row(over: Partial<RollupRow> & Partial<RollupCounts> = {}): RollupRow {
  return {
    minuteMs: Date.UTC(2026, 0, 1),
    tenantId: 'alpha',
    channel: 'gpt-x',
    versionId: 'v1',
    cohort: 'stable',
    writerId: 'w1',
    flushId: 1,
    latency: null,
    ttfb: null,
    ...emptyCounts(),
    ...over,
  };
}
