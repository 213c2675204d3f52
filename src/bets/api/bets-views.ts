import { Type } from '@sinclair/typebox';
import { BaselineMode, PassRule, Suite, SuiteConfigPatch, WorkflowId } from '../bets-types.js';

/**
 * Request and response schemas of the BETS routes. Responses double as serializers: nested
 * documents (cases, summaries, reports) are declared as open JSON so nothing in them is dropped.
 */

const strict = { additionalProperties: false } as const;
const Reason = Type.Optional(Type.String({ maxLength: 2000 }));
const Open = Type.Unknown();

export const TenantParams = Type.Object({ tenantId: Type.String({ maxLength: 100 }) });
export const SuiteParams = Type.Object({
  tenantId: Type.String({ maxLength: 100 }),
  workflow: Type.String({ maxLength: 100 }),
});
export const CaseParams = Type.Object({
  tenantId: Type.String({ maxLength: 100 }),
  workflow: Type.String({ maxLength: 100 }),
  caseId: Type.String({ maxLength: 200 }),
});
export const RunParams = Type.Object({
  tenantId: Type.String({ maxLength: 100 }),
  runId: Type.String({ maxLength: 100 }),
});
export const CaptureParams = Type.Object({
  tenantId: Type.String({ maxLength: 100 }),
  captureId: Type.String({ maxLength: 100 }),
});
export const FleetParams = Type.Object({ fleetRunId: Type.String({ maxLength: 100 }) });

const Count = (max: number, description: string) =>
  Type.String({ pattern: '^[1-9][0-9]{0,5}$', description: `${description} (1 to ${max})` });
export const VersionQuery = Type.Object(
  {
    version: Type.Optional(
      Type.String({
        pattern: '^[1-9][0-9]{0,8}$',
        description: 'a suite version (default: the current one)',
      }),
    ),
  },
  strict,
);

export const SuiteCreateBody = Type.Object(
  {
    workflow: WorkflowId,
    channel: Type.String({
      pattern: '^[a-z0-9][a-z0-9._-]{0,62}$',
      description: 'the channel whose upgrades this suite gates',
    }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    config: Type.Optional(SuiteConfigPatch),
    reason: Reason,
  },
  strict,
);
export const SuitePatchBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    config: Type.Optional(SuiteConfigPatch),
    reason: Reason,
  },
  strict,
);

export const SuiteView = Type.Composite([
  Suite,
  Type.Object({
    staleness: Type.Object({
      stale: Type.Boolean(),
      staleAfterDays: Type.Integer(),
      staleCases: Type.Integer(),
      oldestGoldenAt: Type.Union([Type.String(), Type.Null()]),
    }),
  }),
]);
export const SuiteDetailView = Type.Composite([SuiteView, Type.Object({ versions: Type.Array(Open) })]);

export const CasesView = Type.Object({ suiteVersion: Type.Integer(), items: Type.Array(Open) });

export const ImportBody = Type.Union([
  Type.Object(
    {
      format: Type.Literal('bfcl'),
      cases: Type.String({ description: 'the BFCL case file (JSON Lines)' }),
      answers: Type.String({ description: 'its answers file (JSON Lines)' }),
      closedSchemas: Type.Optional(Type.Boolean()),
      channel: Type.Optional(
        Type.String({
          maxLength: 100,
          description: 'creates the suite on this channel if it does not exist',
        }),
      ),
      replace: Type.Optional(Type.Boolean()),
      skipInvalid: Type.Optional(Type.Boolean()),
    },
    strict,
  ),
  Type.Object(
    {
      format: Type.Literal('promptfoo'),
      tests: Type.Union([Type.String(), Type.Array(Open), Type.Record(Type.String(), Open)], {
        description: 'the test file: YAML/JSON text, or already parsed',
      }),
      promptTemplate: Type.Optional(Type.String({ maxLength: 100_000 })),
      tools: Type.Optional(Type.Array(Open)),
      channel: Type.Optional(Type.String({ maxLength: 100 })),
      replace: Type.Optional(Type.Boolean()),
      skipInvalid: Type.Optional(Type.Boolean()),
    },
    strict,
  ),
  Type.Object(
    {
      format: Type.Literal('suite'),
      file: Open,
      replace: Type.Optional(Type.Boolean()),
      skipInvalid: Type.Optional(Type.Boolean()),
    },
    strict,
  ),
]);

export const ImportResultView = Type.Object({
  suite: SuiteView,
  imported: Type.Integer(),
  rejected: Type.Array(Open),
  warnings: Type.Array(Type.String()),
});

export const StartRunBody = Type.Object(
  {
    candidateVersionId: Type.Optional(Type.String({ maxLength: 100 })),
    upgradeId: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
    k: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    passRule: Type.Optional(PassRule),
    baseline: Type.Optional(BaselineMode),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
  },
  strict,
);

export const RunView = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  suiteId: Type.String(),
  workflow: Type.String(),
  suiteVersion: Type.Integer(),
  channel: Type.String(),
  candidateVersionId: Type.String(),
  stableVersionId: Type.String(),
  judgeVersionId: Type.Union([Type.String(), Type.Null()]),
  upgradeId: Type.Union([Type.String(), Type.Null()]),
  fleetRunId: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  options: Open,
  caseCount: Type.Integer(),
  error: Type.Union([Type.String(), Type.Null()]),
  summary: Open,
  progress: Type.Optional(Open),
  createdBy: Type.String(),
  createdAt: Type.String(),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
});

export const RunListQuery = Type.Object(
  {
    workflow: Type.Optional(Type.String({ maxLength: 100 })),
    limit: Type.Optional(Count(500, 'default 50')),
  },
  strict,
);
export const ReportQuery = Type.Object(
  {
    format: Type.Optional(
      Type.Union([Type.Literal('json'), Type.Literal('markdown'), Type.Literal('junit')]),
    ),
  },
  strict,
);
export const VerdictQuery = Type.Object(
  {
    channel: Type.Optional(Type.String({ maxLength: 100 })),
    upgradeId: Type.Optional(Type.String({ maxLength: 200 })),
  },
  strict,
);

export const FleetBody = Type.Object(
  {
    channel: Type.String({ maxLength: 100 }),
    candidateVersionId: Type.Optional(Type.String({ maxLength: 100 })),
    upgradeId: Type.Optional(Type.String({ maxLength: 200 })),
    tenants: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 10_000 })),
    k: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
  },
  strict,
);

export const CaptureSettingsBody = Type.Object(
  {
    enabled: Type.Boolean(),
    sampleRate: Type.Number({ minimum: 0, maximum: 1 }),
    workflow: WorkflowId,
    reason: Reason,
  },
  strict,
);
export const CaptureSettingsView = Type.Object({
  tenantId: Type.String(),
  enabled: Type.Boolean(),
  sampleRate: Type.Number(),
  workflow: Type.String(),
  updatedBy: Type.String(),
  updatedAt: Type.String(),
});
export const CaptureListQuery = Type.Object(
  {
    status: Type.Optional(
      Type.Union(['captured', 'proposed', 'approved', 'rejected', 'discarded'].map((s) => Type.Literal(s))),
    ),
    workflow: Type.Optional(Type.String({ maxLength: 100 })),
    limit: Type.Optional(Count(1000, 'default 100')),
  },
  strict,
);
export const RefreshBody = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
  strict,
);
export const ReviewBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  strict,
);
