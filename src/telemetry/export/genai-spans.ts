import {
  type Attributes,
  type HrTime,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { ATTR_ERROR_TYPE, ATTR_HTTP_RESPONSE_STATUS_CODE } from '@opentelemetry/semantic-conventions';
import type { ProviderKind } from '../../registry/types.js';
import type { TelemetryObserver } from '../observed-store.js';
import type { TelemetryEvent } from '../telemetry-event.js';
import { GEN_AI, GEN_AI_OPERATION, GEN_AI_PROVIDER, SWITCHYARD } from './genai-conventions.js';

/** What a span needs to know about the model version that answered. */
export interface VersionInfo {
  upstreamModel: string;
  providerKind: ProviderKind;
}

/** Finds a model version (in the routing snapshot); undefined when it is not known. */
export type VersionLookup = (versionId: string) => VersionInfo | undefined;

/**
 * Validation status of one tool call, from the request's counts (the event does not record
 * which call broke the contract): `unchecked` (no contract applied), `valid`, `invalid`, or
 * `mixed` (some calls of the request were invalid, and it is not known which).
 */
export type ToolValidationStatus = 'unchecked' | 'valid' | 'invalid' | 'mixed';

export function toolValidationStatus(e: TelemetryEvent): ToolValidationStatus {
  const n = e.toolNames.length;
  if (e.toolCallsChecked === 0) return 'unchecked';
  if (e.toolCallsInvalid === 0) return e.toolCallsChecked >= n ? 'valid' : 'mixed';
  return e.toolCallsInvalid >= n ? 'invalid' : 'mixed';
}

/** Epoch milliseconds (fractional) as HrTime; a plain number would be read as performance time when old. */
export function epochMsToHrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

const providerName = (kind: ProviderKind) =>
  kind === 'anthropic' ? GEN_AI_PROVIDER.anthropic : GEN_AI_PROVIDER.openai;

/**
 * Turns each telemetry event into OpenTelemetry spans after the fact, following the GenAI
 * semantic conventions: one `chat {channel}` span per request (start at arrival, end at the
 * last byte) and one `execute_tool {name}` child per tool call the model made. Nothing runs on
 * the response path: the spans are built from the batches the telemetry sink writes.
 *
 * The tool spans mark the gateway's check of each call, not its execution (that happens in the
 * agent, later); they are zero-length at the end of the answer, when the calls were complete.
 */
export class GenAiSpanRecorder implements TelemetryObserver {
  constructor(
    private readonly tracer: Tracer,
    private readonly lookup: VersionLookup = () => undefined,
  ) {}

  observe(batch: readonly TelemetryEvent[]): void {
    for (const e of batch) this.record(e);
  }

  record(e: TelemetryEvent): void {
    const version = e.versionId === null ? undefined : this.lookup(e.versionId);
    const attributes: Attributes = {
      [GEN_AI.operationName]: GEN_AI_OPERATION.chat,
      // The wire format must match the version's provider kind, so the wire names the provider.
      [GEN_AI.providerName]: version ? providerName(version.providerKind) : GEN_AI_PROVIDER[e.wire],
      [GEN_AI.requestStream]: e.stream,
      [SWITCHYARD.tenant]: e.tenantId,
      [SWITCHYARD.requestId]: e.requestId,
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: e.status,
      [SWITCHYARD.toolCallsChecked]: e.toolCallsChecked,
      [SWITCHYARD.toolCallsInvalid]: e.toolCallsInvalid,
      [SWITCHYARD.toolCallsCoerced]: e.toolCallsCoerced,
    };
    const set = (key: string, value: string | number | boolean | string[] | null | undefined) => {
      if (value !== null && value !== undefined) attributes[key] = value;
    };
    set(GEN_AI.requestModel, e.channel);
    set(GEN_AI.responseModel, version?.upstreamModel);
    set(GEN_AI.usageInputTokens, e.inputTokens);
    set(GEN_AI.usageOutputTokens, e.outputTokens);
    set(GEN_AI.conversationId, e.sessionId);
    if (e.stream && e.ttfbMs !== null) set(GEN_AI.responseTimeToFirstChunk, e.ttfbMs / 1000);
    set(ATTR_ERROR_TYPE, e.errorType);
    set(SWITCHYARD.cohort, e.cohort);
    set(SWITCHYARD.session, e.sessionId);
    set(SWITCHYARD.version, e.versionId);
    set(SWITCHYARD.taskId, e.taskId);
    set(SWITCHYARD.fallback, e.fallback);
    if (e.sessionReset) set(SWITCHYARD.sessionReset, true);
    if (e.shadowed) set(SWITCHYARD.shadowed, true);
    if (e.invalidKinds.length > 0) set(SWITCHYARD.invalidKinds, e.invalidKinds);
    set(SWITCHYARD.formatValid, e.formatValid);
    set(SWITCHYARD.policyAction, e.policyAction);

    const endMs = e.atMs + e.latencyMs;
    const span = this.tracer.startSpan(
      e.channel ? `${GEN_AI_OPERATION.chat} ${e.channel}` : GEN_AI_OPERATION.chat,
      { kind: SpanKind.CLIENT, startTime: epochMsToHrTime(e.atMs), attributes },
      ROOT_CONTEXT,
    );
    if (e.errorType !== null) span.setStatus({ code: SpanStatusCode.ERROR, message: e.errorType });

    if (span.isRecording() && e.toolNames.length > 0) {
      const parent = trace.setSpan(ROOT_CONTEXT, span);
      const status = toolValidationStatus(e);
      const at = epochMsToHrTime(endMs);
      e.toolNames.forEach((name, i) => {
        const tool = this.tracer.startSpan(
          `${GEN_AI_OPERATION.executeTool} ${name}`,
          {
            kind: SpanKind.INTERNAL,
            startTime: at,
            attributes: {
              [GEN_AI.operationName]: GEN_AI_OPERATION.executeTool,
              [GEN_AI.toolName]: name,
              [GEN_AI.toolType]: 'function',
              [SWITCHYARD.toolIndex]: i,
              [SWITCHYARD.toolValidation]: status,
            },
          },
          parent,
        );
        if (status === 'invalid') {
          // Every call was invalid, and the kinds are recorded one per invalid call, in order.
          const kind = e.invalidKinds.length === e.toolNames.length ? e.invalidKinds[i] : undefined;
          if (kind) tool.setAttribute(ATTR_ERROR_TYPE, kind);
          tool.setStatus({ code: SpanStatusCode.ERROR, message: kind ?? 'tool_call_invalid' });
        }
        tool.end(at);
      });
    }
    span.end(epochMsToHrTime(endMs));
  }
}
