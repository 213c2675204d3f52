import type { TenantVerdict } from '../../bets/run-types.js';
import type { SinkStats } from '../batching-sink.js';
import type { TelemetryObserver } from '../observed-store.js';
import type { VersionLookup } from './genai-spans.js';
import type { ObservabilityConfig } from './observability-config.js';
import { createOtlpExport, type OtlpExport, type OtlpExportDeps } from './otlp-export.js';
import { PrometheusMetrics } from './prometheus-metrics.js';

export interface ObservabilityDeps {
  env?: NodeJS.ProcessEnv;
  /** The model version behind a version id, for spans (wire it to the routing snapshot). */
  versionLookup?: VersionLookup;
  /** The gateway's telemetry sink counters (`() => gateway.stats().telemetry`). */
  telemetrySink?: () => SinkStats;
  /** Tenant rollouts per phase, read at each scrape (wire it to the rollout store). */
  rolloutPhases?: () => Promise<Record<string, number>>;
  /** A metric source or an export failed. */
  onError?: (err: unknown, source: string) => void;
  /** Test hooks: exporters used instead of OTLP/HTTP. */
  spanExporter?: OtlpExportDeps['spanExporter'];
  logExporter?: OtlpExportDeps['logExporter'];
}

/** The exports of one process: Prometheus metrics and the OpenTelemetry export, as configured. */
export interface Observability {
  /** Null when `observability.metrics.enabled` is false. */
  metrics: PrometheusMetrics | null;
  /** Null when no OTLP endpoint is configured. */
  otlp: OtlpExport | null;
  /** Add each to the ObservedTelemetryStore the gateway writes to. */
  observers: TelemetryObserver[];
  /** Records a BETS gate verdict: the verdict counter and the `gen_ai.evaluation.result` events. */
  recordVerdict(v: TenantVerdict): void;
  /** Exports everything queued (shutdown; tests). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function createObservability(
  config: ObservabilityConfig,
  deps: ObservabilityDeps = {},
): Observability {
  const metrics = config.metrics.enabled
    ? new PrometheusMetrics({
        tenantLabelLimit: config.metrics.tenantLabelLimit,
        channelLabelLimit: config.metrics.channelLabelLimit,
        processMetrics: config.metrics.processMetrics,
        telemetrySink: deps.telemetrySink,
        rolloutPhases: deps.rolloutPhases,
        onError: deps.onError,
      })
    : null;
  const otlp = createOtlpExport(config.otlp, deps);
  return {
    metrics,
    otlp,
    observers: [...(metrics ? [metrics] : []), ...(otlp ? [otlp.spans] : [])],
    recordVerdict(v) {
      metrics?.recordVerdict(v);
      otlp?.recordVerdict(v);
    },
    flush: async () => otlp?.flush(),
    close: async () => otlp?.close(),
  };
}
