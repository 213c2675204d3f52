import { type Static, type TProperties, Type } from '@sinclair/typebox';

/**
 * The `observability:` section of the configuration file: the Prometheus endpoint and the
 * OpenTelemetry (OTLP/HTTP) export. Embedded in the application's ConfigSchema.
 */
const section = <T extends TProperties>(props: T, description: string) =>
  Type.Object(props, { additionalProperties: false, default: {}, description });

export const DEFAULT_OBSERVABILITY = {
  tenantLabelLimit: 200,
  channelLabelLimit: 100,
  serviceName: 'switchyard',
  sampleRatio: 1,
  exportTimeoutMs: 10_000,
} as const;

export const ObservabilityConfigSchema = section(
  {
    metrics: section(
      {
        enabled: Type.Boolean({
          default: true,
          description:
            'serve Prometheus metrics at GET /metrics (requires `Authorization: Bearer` when SWITCHYARD_METRICS_TOKEN is set)',
        }),
        tenantLabelLimit: Type.Integer({
          minimum: 0,
          maximum: 100_000,
          default: DEFAULT_OBSERVABILITY.tenantLabelLimit,
          description:
            'distinct tenant label values, in order of first sight; later tenants are labelled "other" so series stay bounded',
        }),
        channelLabelLimit: Type.Integer({
          minimum: 0,
          maximum: 10_000,
          default: DEFAULT_OBSERVABILITY.channelLabelLimit,
          description:
            'distinct channel label values, in order of first sight (clients choose the model name); later ones are "other"',
        }),
        processMetrics: Type.Boolean({
          default: true,
          description: 'also export the Node.js process metrics (CPU, memory, event loop lag, GC)',
        }),
      },
      'Prometheus metrics of this process',
    ),
    otlp: section(
      {
        endpoint: Type.Optional(
          Type.String({
            pattern: '^https?://[^\\s]+$',
            maxLength: 2000,
            description:
              'OTLP/HTTP base URL of a collector (e.g. http://127.0.0.1:4318): spans go to /v1/traces, evaluation events to /v1/logs; nothing is exported when unset',
          }),
        ),
        headers: Type.Record(
          Type.String({ pattern: '^[A-Za-z0-9-]{1,128}$' }),
          Type.String({ maxLength: 8192 }),
          {
            additionalProperties: false,
            default: {},
            description:
              'HTTP headers sent with every export; a value `env:NAME` is read from that environment variable (keep keys out of the file)',
          },
        ),
        serviceName: Type.String({
          minLength: 1,
          maxLength: 200,
          default: DEFAULT_OBSERVABILITY.serviceName,
          description: 'the service.name resource attribute',
        }),
        sampleRatio: Type.Number({
          minimum: 0,
          maximum: 1,
          default: DEFAULT_OBSERVABILITY.sampleRatio,
          description: 'share of requests traced (by trace id); 1 traces every request',
        }),
        exportTimeoutMs: Type.Integer({
          minimum: 100,
          maximum: 120_000,
          default: DEFAULT_OBSERVABILITY.exportTimeoutMs,
          description: 'longest one export request may take (milliseconds)',
        }),
      },
      'OpenTelemetry traces (GenAI semantic conventions) and BETS evaluation events over OTLP/HTTP',
    ),
  },
  'metrics and traces exported to monitoring systems',
);
export type ObservabilityConfig = Static<typeof ObservabilityConfigSchema>;
