import { type Static, Type } from '@sinclair/typebox';
import { GatewayConfigSchema } from '../gateway/gateway-config-schema.js';
import { ObservabilityConfigSchema } from '../telemetry/export/observability-config.js';

/**
 * The one configuration file (YAML), as a JSON Schema: validated once at start-up, then frozen.
 * Secrets and connection URLs come from environment variables (see ENVIRONMENT below), so the
 * file can be committed. Every object has defaults, so an empty file (or none) is valid and
 * means the embedded default: SQLite, in-process cache.
 */
const obj = <T extends Parameters<typeof Type.Object>[0]>(props: T, description: string) =>
  Type.Object(props, { additionalProperties: false, default: {}, description });

export const ConfigSchema = Type.Object(
  {
    server: obj(
      {
        host: Type.String({ default: '127.0.0.1', description: 'address to listen on' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: '0 picks a free port' }),
        bodyLimitBytes: Type.Integer({
          minimum: 1024,
          maximum: 64 * 1024 * 1024,
          default: 4 * 1024 * 1024,
          description: 'largest request body accepted; larger ones get 413',
        }),
      },
      'HTTP server',
    ),
    process: obj(
      {
        role: Type.Union([Type.Literal('all'), Type.Literal('gateway'), Type.Literal('controller')], {
          default: 'all',
          description:
            'all: everything in one process; gateway: model endpoints, admin API and dashboard (no rollout controller, classification schedule, retention or webhook outbox); controller: those background loops plus the admin API and dashboard, refusing model traffic (`serve --role` overrides it)',
        }),
      },
      'what this process runs: a scaled deployment splits gateways from controllers (docs/scaled-deployment.md)',
    ),
    storage: obj(
      {
        driver: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')], {
          default: 'sqlite',
          description: 'sqlite (embedded, one process) or postgres (scaled, shared by processes)',
        }),
        sqlitePath: Type.String({
          default: '.switchyard/switchyard.db',
          description: 'SQLite file, relative to the working directory; ":memory:" for a throwaway',
        }),
        postgresUrl: Type.Optional(
          Type.String({
            description: 'prefer the SWITCHYARD_DATABASE_URL environment variable (it may hold a password)',
          }),
        ),
        maxConnections: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
      },
      'where the registry, audit log and results live',
    ),
    cache: obj(
      {
        driver: Type.Union([Type.Literal('memory'), Type.Literal('redis')], {
          default: 'memory',
          description: 'memory (embedded) or redis (shared session pins and change notifications)',
        }),
        redisUrl: Type.Optional(
          Type.String({ description: 'prefer the SWITCHYARD_REDIS_URL environment variable' }),
        ),
        prefix: Type.String({
          pattern: '^[A-Za-z0-9:_-]{1,64}$',
          default: 'switchyard',
          description: 'key prefix, so deployments can share a Redis',
        }),
      },
      'shared fast state',
    ),
    snapshot: obj(
      {
        busCheckIntervalMs: Type.Integer({ minimum: 10, maximum: 60_000, default: 250 }),
        storeCheckIntervalMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 2000 }),
      },
      'how the in-memory routing snapshot is kept current',
    ),
    gateway: GatewayConfigSchema,
    bets: obj(
      {
        maxInFlight: Type.Integer({
          minimum: 1,
          maximum: 10_000,
          default: 64,
          description: 'provider calls in flight across all BETS runs',
        }),
        requestsPerSecond: Type.Optional(
          Type.Number({
            exclusiveMinimum: 0,
            description: 'default rate limit per provider origin for BETS runs (none when unset)',
          }),
        ),
        upstreamTenantHeader: Type.Boolean({
          default: false,
          description:
            'send x-switchyard-tenant to providers (for the simulator; keep off for real providers)',
        }),
      },
      'behavioural equivalence test suites',
    ),
    demo: obj(
      {
        enabled: Type.Boolean({
          default: false,
          description:
            'run the demo: the provider simulator, the demo fleet, simulated agents and an upgrade on an accelerated clock (on by default when serve runs with no configuration)',
        }),
        timeScale: Type.Number({
          minimum: 1,
          maximum: 10_000,
          default: 120,
          description: 'simulated seconds per real second for the whole process (120: an hour every 30 s)',
        }),
        sessionsPerSecond: Type.Number({
          exclusiveMinimum: 0,
          maximum: 1000,
          default: 40,
          description: 'agent sessions the simulated agents start per real second across the fleet',
        }),
        upgradeAfterSeconds: Type.Number({
          minimum: 0,
          maximum: 3600,
          default: 15,
          description: 'real seconds of traffic before the demo upgrade starts',
        }),
      },
      'the built-in demo',
    ),
    classification: obj(
      {
        enabled: Type.Boolean({
          default: true,
          description: 'run the scheduled fleet-wide group re-evaluation (in apply mode) when due',
        }),
        intervalDays: Type.Number({
          exclusiveMinimum: 0,
          maximum: 3660,
          default: 91,
          description: 'days between scheduled re-evaluations (quarterly by default)',
        }),
        regressionWindowDays: Type.Number({
          exclusiveMinimum: 0,
          maximum: 3660,
          default: 365,
          description: 'how far back rolled-back and BETS-blocked rollouts count as regressions',
        }),
      },
      'classification of tenants into rollout groups from their risk profiles',
    ),
    controller: obj(
      {
        tickMs: Type.Integer({
          minimum: 100,
          maximum: 600_000,
          default: 10_000,
          description: 'how often the rollout controller runs a reconcile pass',
        }),
        leaseMs: Type.Integer({
          minimum: 1_000,
          maximum: 600_000,
          default: 30_000,
          description:
            'the leader lease: one controller process acts at a time; a crashed leader is replaced after this long',
        }),
        drainTimeoutMs: Type.Integer({
          minimum: 0,
          maximum: 3_600_000,
          default: 90_000,
          description: 'a rollback lets sessions on the candidate finish this long before the hard cut',
        }),
        warmDays: Type.Number({
          minimum: 0,
          maximum: 365,
          default: 30,
          description: 'days a replaced version stays warm (serving pinned sessions) before it is retired',
        }),
        betsWithoutSuite: Type.Union([Type.Literal('block'), Type.Literal('pass')], {
          default: 'block',
          description: 'a tenant with no BETS suite on the channel is blocked (default) or let through',
        }),
        guard: obj(
          {
            settleMs: Type.Optional(
              Type.Integer({
                minimum: 0,
                maximum: 600_000,
                description:
                  'only rollup minutes that ended this long ago are judged (default 30 000: telemetry arrives late)',
              }),
            ),
            persistence: Type.Optional(
              Type.Object(
                {
                  evaluations: Type.Integer({ minimum: 1, maximum: 1000 }),
                  minDurationMs: Type.Integer({ minimum: 0, maximum: 86_400_000 }),
                },
                {
                  additionalProperties: false,
                  description:
                    'a regression acts only after this many evaluations over this long (default 2 over 60 000 ms)',
                },
              ),
            ),
            minSamples: Type.Optional(
              Type.Object(
                {
                  canary: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
                  control: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
                },
                {
                  additionalProperties: false,
                  description: 'trials each cohort needs before a signal decides anything (default 100 each)',
                },
              ),
            ),
          },
          'overrides of the rollback guard (src/guard/config.ts); unset keys keep its defaults. Shorten them only for drills and tests: they trade false alarms for speed',
        ),
        webhooks: Type.Array(
          Type.Object(
            {
              url: Type.String({ pattern: '^https?://\\S+$', maxLength: 2000, description: 'http(s) URL' }),
              secret: Type.String({
                pattern: '^env:[A-Za-z_][A-Za-z0-9_]*$',
                description: 'env:NAME of the variable holding the HMAC-SHA256 signing secret',
              }),
              format: Type.Union([Type.Literal('json'), Type.Literal('slack')], {
                default: 'json',
                description: 'json: the notification; slack: an incoming-webhook payload {text, blocks}',
              }),
            },
            { additionalProperties: false },
          ),
          {
            default: [],
            maxItems: 20,
            description: 'endpoints notified of rollout events (signed, retried with backoff from an outbox)',
          },
        ),
      },
      'the rollout controller: reconcile loop, leader lease, rollback drain, notifications',
    ),
    telemetry: obj(
      {
        retentionDays: Type.Integer({
          minimum: 1,
          maximum: 3650,
          default: 90,
          description:
            'days of raw telemetry, rollups, feedback and shadow results kept; older days are dropped whole',
        }),
        partitionsAheadDays: Type.Integer({
          minimum: 1,
          maximum: 60,
          default: 3,
          description: 'PostgreSQL: daily partitions created ahead of today by the maintenance job',
        }),
        maintenanceIntervalMs: Type.Integer({
          minimum: 60_000,
          maximum: 86_400_000,
          default: 3_600_000,
          description: 'how often retention and partition maintenance run',
        }),
        rollupFlushIntervalMs: Type.Integer({
          minimum: 100,
          maximum: 60_000,
          default: 10_000,
          description: 'how often each process writes its closed per-minute rollups',
        }),
        rollupGraceMs: Type.Integer({
          minimum: 0,
          maximum: 60_000,
          default: 5_000,
          description: 'a minute is closed and written this long after it ends',
        }),
        rollupMaxOpenRows: Type.Integer({
          minimum: 1000,
          maximum: 10_000_000,
          default: 200_000,
          description: 'unwritten rollup rows held in memory at most; beyond it data is dropped and counted',
        }),
        rollupMaxPendingRows: Type.Integer({
          minimum: 1000,
          maximum: 10_000_000,
          default: 500_000,
          description:
            'rollup rows kept for retry while the database is down; beyond it the oldest are dropped and counted',
        }),
      },
      'telemetry rollups, retention and partition maintenance',
    ),
    observability: ObservabilityConfigSchema,
    log: obj(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
          { default: 'info' },
        ),
      },
      'logging',
    ),
  },
  {
    additionalProperties: false,
    $id: 'https://switchyard.dev/schemas/config.json',
    title: 'Switchyard configuration',
  },
);
export type Config = Static<typeof ConfigSchema>;

/** Environment variables read at start-up; each overrides the matching file setting. */
export const ENVIRONMENT = {
  SWITCHYARD_CONFIG: 'path of the YAML configuration file',
  SWITCHYARD_DATABASE_URL: 'PostgreSQL URL (sets storage.postgresUrl); may contain the password',
  SWITCHYARD_REDIS_URL: 'Redis URL (sets cache.redisUrl)',
  SWITCHYARD_ADMIN_TOKEN: 'bootstrap operator token for the admin API (created or verified at start)',
  SWITCHYARD_PORT: 'overrides server.port',
  SWITCHYARD_METRICS_TOKEN: 'when set, GET /metrics requires it as "Authorization: Bearer <token>"',
} as const;
