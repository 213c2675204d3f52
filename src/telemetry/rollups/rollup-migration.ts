import type { Migration } from '../../storage/migrations.js';

const ROLLUP_COLUMNS = `
  day TEXT NOT NULL, minute_ms {{big}} NOT NULL, tenant_id TEXT NOT NULL, channel TEXT NOT NULL,
  version_id TEXT NOT NULL, cohort TEXT NOT NULL, writer_id TEXT NOT NULL, flush_id {{big}} NOT NULL,
  requests INTEGER NOT NULL, errors INTEGER NOT NULL,
  tool_calls_checked INTEGER NOT NULL, tool_calls_invalid INTEGER NOT NULL, invalid_kinds TEXT NOT NULL,
  tool_calls_coerced INTEGER NOT NULL, format_checked INTEGER NOT NULL, format_valid INTEGER NOT NULL,
  tasks_reported INTEGER NOT NULL, tasks_failed INTEGER NOT NULL, downstream_reports INTEGER NOT NULL,
  downstream_error_reports INTEGER NOT NULL, downstream_errors {{big}} NOT NULL,
  judge_n INTEGER NOT NULL, judge_sum {{real}} NOT NULL, judge_sum_sq {{real}} NOT NULL,
  latency TEXT, ttfb TEXT, last_event_ms {{big}},
  CONSTRAINT telemetry_rollups_pk
    PRIMARY KEY (tenant_id, minute_ms, channel, version_id, cohort, writer_id, flush_id, day)`;

const WRITERS = `CREATE TABLE telemetry_rollup_writers (
  writer_id TEXT PRIMARY KEY, last_flush_ms {{big}} NOT NULL, closed_through_ms {{big}} NOT NULL)`;

/**
 * Per-minute rollups, one row per (minute, tenant, channel, version, cohort, writer, flush), and
 * each writer's heartbeat. On PostgreSQL the rollups are partitioned by day (range on the `day`
 * text, `YYYY-MM-DD`): the maintenance job creates each day's partition ahead and retention drops
 * whole partitions; the DEFAULT partition only catches rows of a day whose partition does not
 * exist yet, and the job moves them into it. SQLite keeps one table and deletes whole days.
 * The feedback and shadow tables get a `day` index for their retention deletes.
 */
export const TELEMETRY_ROLLUPS_MIGRATION: Migration = {
  id: '0010_telemetry_rollups',
  statements: [
    `CREATE TABLE telemetry_rollups (${ROLLUP_COLUMNS})`,
    'CREATE INDEX telemetry_rollups_minute ON telemetry_rollups (minute_ms)',
    'CREATE INDEX telemetry_rollups_day ON telemetry_rollups (day)',
    WRITERS,
    'CREATE INDEX gateway_feedback_day ON gateway_feedback (day)',
    'CREATE INDEX shadow_results_day ON shadow_results (day)',
  ],
  byDialect: {
    postgres: [
      `CREATE TABLE telemetry_rollups (${ROLLUP_COLUMNS}) PARTITION BY RANGE (day)`,
      'CREATE TABLE telemetry_rollups_default PARTITION OF telemetry_rollups DEFAULT',
      'CREATE INDEX telemetry_rollups_minute ON telemetry_rollups (minute_ms)',
      'CREATE INDEX telemetry_rollups_day ON telemetry_rollups (day)',
      WRITERS,
      'CREATE INDEX gateway_feedback_day ON gateway_feedback (day)',
      'CREATE INDEX shadow_results_day ON shadow_results (day)',
    ],
  },
};

/**
 * PostgreSQL only: raw telemetry events become a table partitioned by `day`, like the rollups, so
 * retention drops whole days instead of deleting millions of rows. The table is rebuilt with the
 * same columns (LIKE copies whatever earlier migrations added), its rows copied into the DEFAULT
 * partition (the maintenance job then moves each day into its own partition) and the identity
 * sequence continued. The primary key must include the partition key: (seq, day); seq stays
 * unique because it is generated. This runs once, in the migration's transaction.
 */
export const TELEMETRY_EVENTS_PARTITIONED_MIGRATION: Migration = {
  id: '0011_telemetry_events_partitioned',
  statements: [],
  byDialect: {
    postgres: [
      'ALTER TABLE telemetry_events RENAME TO telemetry_events_unpartitioned',
      `CREATE TABLE telemetry_events (LIKE telemetry_events_unpartitioned INCLUDING DEFAULTS INCLUDING IDENTITY)
        PARTITION BY RANGE (day)`,
      'ALTER TABLE telemetry_events ADD CONSTRAINT telemetry_events_pk PRIMARY KEY (seq, day)',
      'CREATE TABLE telemetry_events_default PARTITION OF telemetry_events DEFAULT',
      'INSERT INTO telemetry_events OVERRIDING SYSTEM VALUE SELECT * FROM telemetry_events_unpartitioned',
      `SELECT setval(pg_get_serial_sequence('telemetry_events', 'seq'),
        COALESCE((SELECT max(seq) FROM telemetry_events), 0) + 1, false)`,
      'DROP TABLE telemetry_events_unpartitioned',
      'CREATE INDEX telemetry_events_tenant ON telemetry_events (tenant_id, at_ms)',
      'CREATE INDEX telemetry_events_day ON telemetry_events (day)',
    ],
  },
};

/**
 * The controller and the metrics API read one tenant's rows over a window: without this index each
 * such read scanned every tenant's rows of the window (found by the simulation of a fleet upgrade).
 */
export const TELEMETRY_ROLLUPS_TENANT_INDEX_MIGRATION: Migration = {
  id: '0013_telemetry_rollups_tenant_index',
  statements: ['CREATE INDEX telemetry_rollups_tenant ON telemetry_rollups (tenant_id, channel, minute_ms)'],
};
