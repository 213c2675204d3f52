import { ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { TenantVerdict } from '../../bets/run-types.js';
import { ConfigError } from '../../config/load-config.js';
import { EvaluationEventEmitter } from './genai-evaluation.js';
import { GenAiSpanRecorder, type VersionLookup } from './genai-spans.js';
import type { ObservabilityConfig } from './observability-config.js';

export type OtlpConfig = ObservabilityConfig['otlp'];

export interface OtlpExportDeps {
  env?: NodeJS.ProcessEnv;
  /** The model version behind a version id (for `gen_ai.response.model` and the provider). */
  versionLookup?: VersionLookup;
  /** An export failed (the collector is down or refused it); those spans or events are lost. */
  onError?: (err: unknown, signal: 'traces' | 'logs') => void;
  /** Replace an OTLP/HTTP exporter (tests); given, it is used even without an endpoint. */
  spanExporter?: SpanExporter;
  logExporter?: LogRecordExporter;
}

/** The OpenTelemetry export of one process: a span recorder for telemetry and verdict events. */
export interface OtlpExport {
  /** Add to the ObservedTelemetryStore: builds spans from every telemetry batch. */
  spans: GenAiSpanRecorder;
  /** Emits a BETS verdict as `gen_ai.evaluation.result` events. */
  recordVerdict(v: TenantVerdict): void;
  /** Exports everything queued now (failures go to onError; never rejects). */
  flush(): Promise<void>;
  /** Exports what is queued and stops; later spans and events are discarded. */
  close(): Promise<void>;
}

/** Resolves header values written `env:NAME` from the environment, so keys stay out of the file. */
export function resolveHeaders(
  headers: Record<string, string>,
  env: NodeJS.ProcessEnv,
): Record<string, string> {
  const out: Record<string, string> = {};
  const missing: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const ref = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(value);
    if (!ref) {
      out[name] = value;
      continue;
    }
    const resolved = env[ref[1]!];
    if (resolved === undefined || resolved === '')
      missing.push(`observability.otlp.headers.${name}: ${value} is not set`);
    else out[name] = resolved;
  }
  if (missing.length) throw new ConfigError(missing);
  return out;
}

/** Reports failed exports instead of letting them vanish into OpenTelemetry's silent diag logger. */
function reportingSpanExporter(inner: SpanExporter, onError: (err: unknown) => void): SpanExporter {
  return {
    export: (spans, done) =>
      inner.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS)
          onError(result.error ?? new Error('span export failed'));
        done(result);
      }),
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

function reportingLogExporter(inner: LogRecordExporter, onError: (err: unknown) => void): LogRecordExporter {
  return {
    export: (logs, done) =>
      inner.export(logs, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) onError(result.error ?? new Error('log export failed'));
        done(result);
      }),
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush(),
  };
}

/**
 * Builds the OTLP/HTTP export (JSON over HTTP: spans to `{endpoint}/v1/traces`, evaluation events
 * to `{endpoint}/v1/logs`), behind batch processors so a slow collector never holds a caller.
 * Returns null when no endpoint is configured: nothing is built and nothing is exported. The
 * providers are private to this object (never registered as OpenTelemetry's globals), so several
 * apps can live in one process.
 */
export function createOtlpExport(config: OtlpConfig, deps: OtlpExportDeps = {}): OtlpExport | null {
  if (!config.endpoint && !deps.spanExporter && !deps.logExporter) return null;
  const base = (config.endpoint ?? '').replace(/\/+$/, '');
  const headers = resolveHeaders(config.headers, deps.env ?? process.env);
  const onError = deps.onError ?? (() => {});
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName });

  const spanExporter =
    deps.spanExporter ??
    (base
      ? new OTLPTraceExporter({ url: `${base}/v1/traces`, headers, timeoutMillis: config.exportTimeoutMs })
      : null);
  const tracerProvider = new BasicTracerProvider({
    resource,
    sampler: new TraceIdRatioBasedSampler(config.sampleRatio),
    spanProcessors: spanExporter
      ? [
          new BatchSpanProcessor(
            reportingSpanExporter(spanExporter, (err) => onError(err, 'traces')),
            // Bounded: beyond the queue, spans are dropped rather than held.
            { maxQueueSize: 8192, maxExportBatchSize: 512, exportTimeoutMillis: config.exportTimeoutMs },
          ),
        ]
      : [],
  });

  const logExporter =
    deps.logExporter ??
    (base
      ? new OTLPLogExporter({ url: `${base}/v1/logs`, headers, timeoutMillis: config.exportTimeoutMs })
      : null);
  const loggerProvider = new LoggerProvider({
    resource,
    processors: logExporter
      ? [
          new BatchLogRecordProcessor({
            exporter: reportingLogExporter(logExporter, (err) => onError(err, 'logs')),
            exportTimeoutMillis: config.exportTimeoutMs,
          }),
        ]
      : [],
  });

  const scope = 'switchyard';
  const spans = new GenAiSpanRecorder(tracerProvider.getTracer(scope), deps.versionLookup);
  const events = new EvaluationEventEmitter(loggerProvider.getLogger(scope));
  return {
    spans,
    recordVerdict: (v) => events.recordVerdict(v),
    // A failed export was already reported through onError; flushing and closing never throw.
    async flush() {
      await Promise.allSettled([tracerProvider.forceFlush(), loggerProvider.forceFlush()]);
    },
    async close() {
      await Promise.allSettled([tracerProvider.shutdown(), loggerProvider.shutdown()]);
    },
  };
}
