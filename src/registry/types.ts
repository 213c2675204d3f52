import { type Static, Type } from '@sinclair/typebox';

/**
 * Registry domain: the records Layer 1 stores. Each is a TypeBox schema (so the admin API,
 * OpenAPI document and validation share one definition) plus its static type.
 */

export const Id = Type.String({
  pattern: '^[a-z0-9][a-z0-9._-]{0,62}$',
  description: 'lower-case letters, digits, ".", "_" and "-"; starts with a letter or digit; at most 63',
});

export const FailurePolicy = Type.Union(
  [Type.Literal('fallback'), Type.Literal('error'), Type.Literal('coerce'), Type.Literal('pass')],
  { description: 'what the gateway does with an invalid tool call' },
);
export type FailurePolicy = Static<typeof FailurePolicy>;

export const ActionPolicy = Type.Union(
  [Type.Literal('pause'), Type.Literal('rollback'), Type.Literal('escalate')],
  { description: 'what the rollback controller does when this tenant regresses' },
);
export type ActionPolicy = Static<typeof ActionPolicy>;

const Level = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]);

export const RiskProfile = Type.Object(
  {
    criticality: Level,
    toolCallComplexity: Level,
    outputFormatRigidity: Level,
    /** Regressions seen in past upgrades; feeds group classification. */
    regressionHistory: Type.Integer({ minimum: 0 }),
    declaredSensitivity: Level,
  },
  { additionalProperties: false },
);
export type RiskProfile = Static<typeof RiskProfile>;

export const DEFAULT_RISK_PROFILE: RiskProfile = {
  criticality: 'medium',
  toolCallComplexity: 'medium',
  outputFormatRigidity: 'medium',
  regressionHistory: 0,
  declaredSensitivity: 'medium',
};

export const Contact = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.String({ format: 'email', maxLength: 320 }),
  },
  { additionalProperties: false },
);
export type Contact = Static<typeof Contact>;

/** Fields every stored record carries. `version` guards optimistic concurrency. */
const Meta = {
  version: Type.Integer({ minimum: 1 }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
};

export const Tenant = Type.Object({
  id: Id,
  name: Type.String({ minLength: 1, maxLength: 200 }),
  rolloutGroup: Id,
  frozen: Type.Boolean(),
  failurePolicy: FailurePolicy,
  actionPolicy: ActionPolicy,
  riskProfile: RiskProfile,
  contacts: Type.Array(Contact, { maxItems: 20 }),
  ...Meta,
});
export type Tenant = Static<typeof Tenant>;

export const ApiKey = Type.Object({
  id: Type.String(),
  tenantId: Id,
  label: Type.String({ maxLength: 200 }),
  /** First characters of the key, so a person can tell keys apart; never enough to use it. */
  prefix: Type.String(),
  keyHash: Type.String(),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  ...Meta,
});
export type ApiKey = Static<typeof ApiKey>;

export const ProviderKind = Type.Union([Type.Literal('openai-compatible'), Type.Literal('anthropic')]);
export type ProviderKind = Static<typeof ProviderKind>;

export const Lifecycle = Type.Union([
  Type.Literal('active'),
  Type.Literal('candidate'),
  Type.Literal('deprecated'),
  Type.Literal('warm'),
  Type.Literal('retired'),
]);
export type Lifecycle = Static<typeof Lifecycle>;

export const ModelVersion = Type.Object({
  id: Id,
  channel: Id,
  providerKind: ProviderKind,
  upstreamModel: Type.String({ minLength: 1, maxLength: 200 }),
  endpoint: Type.String({ format: 'uri', maxLength: 2000 }),
  /**
   * Where the provider credential lives, never the credential: `env:NAME` (an environment
   * variable of the gateway process) or `none` (for local servers that need no key).
   */
  credentialsRef: Type.String({ pattern: '^(env:[A-Za-z_][A-Za-z0-9_]*|none)$' }),
  lifecycle: Lifecycle,
  /** With lifecycle `warm`: kept serving pinned sessions until this time, then retired. */
  warmUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  ...Meta,
});
export type ModelVersion = Static<typeof ModelVersion>;

/** A tenant's use of a channel: which version is stable for it, and which is its candidate. */
export const TenantChannel = Type.Object({
  id: Type.String({ description: '<tenantId>:<channel>' }),
  tenantId: Id,
  channel: Id,
  stableVersionId: Id,
  candidateVersionId: Type.Union([Id, Type.Null()]),
  /** Share of new sessions bucketed onto the candidate, 0 to 100. */
  canaryPercent: Type.Number({ minimum: 0, maximum: 100 }),
  /** Share of requests mirrored to the candidate in shadow mode, 0 to 100. */
  shadowPercent: Type.Number({ minimum: 0, maximum: 100 }),
  /** The upgrade this candidate belongs to; part of the canary bucketing hash. */
  upgradeId: Type.Union([Type.String(), Type.Null()]),
  /** Pinned by contract: upgrades skip this tenant on this channel. */
  pinned: Type.Boolean(),
  ...Meta,
});
export type TenantChannel = Static<typeof TenantChannel>;

export const ToolContractDefinition = Type.Object(
  {
    kind: Type.Literal('tool'),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    /** JSON Schema (draft 2020-12 or 07) of the tool's arguments. */
    parameters: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);
export const RegexFormatDefinition = Type.Object(
  {
    kind: Type.Literal('format_regex'),
    pattern: Type.String({ minLength: 1, maxLength: 4000 }),
    flags: Type.Optional(Type.String({ pattern: '^[imsu]*$' })),
  },
  { additionalProperties: false },
);
export const JsonSchemaFormatDefinition = Type.Object(
  {
    kind: Type.Literal('format_json_schema'),
    schema: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);
export const ContractDefinition = Type.Union([
  ToolContractDefinition,
  RegexFormatDefinition,
  JsonSchemaFormatDefinition,
]);
export type ContractDefinition = Static<typeof ContractDefinition>;

export const Contract = Type.Object({
  id: Type.String({ description: '<tenantId>:<modelVersionId>:<name>' }),
  tenantId: Id,
  modelVersionId: Id,
  /** The tool name (for tool contracts) or a format contract's name. */
  name: Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$' }),
  definition: ContractDefinition,
  ...Meta,
});
export type Contract = Static<typeof Contract>;

export const ApprovalParty = Type.Union([Type.Literal('platform'), Type.Literal('tenant')]);
export type ApprovalParty = Static<typeof ApprovalParty>;

export const PlanStage = Type.Object(
  {
    percent: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
    soakHours: Type.Number({ minimum: 0 }),
    approvals: Type.Array(ApprovalParty, { uniqueItems: true }),
  },
  { additionalProperties: false },
);
export type PlanStage = Static<typeof PlanStage>;

export const RolloutPlan = Type.Object(
  {
    stages: Type.Array(PlanStage, { minItems: 1, maxItems: 20 }),
    /** Minimum pass rates a BETS run must reach, per assertion kind. */
    betsThresholds: Type.Object(
      {
        toolCall: Type.Number({ minimum: 0, maximum: 1 }),
        format: Type.Number({ minimum: 0, maximum: 1 }),
        semantic: Type.Number({ minimum: 0, maximum: 1 }),
      },
      { additionalProperties: false },
    ),
    shadowHours: Type.Number({ minimum: 0 }),
    /** The rollout takes at least this long, whatever the stages add up to. */
    minDurationHours: Type.Number({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type RolloutPlan = Static<typeof RolloutPlan>;

export const RolloutGroup = Type.Object({
  id: Id,
  name: Type.String({ minLength: 1, maxLength: 200 }),
  /** Order in which groups are offered an upgrade: lower goes first. */
  rank: Type.Integer({ minimum: 0 }),
  plan: RolloutPlan,
  ...Meta,
});
export type RolloutGroup = Static<typeof RolloutGroup>;

export const AdminRole = Type.Union([
  Type.Literal('operator'),
  Type.Literal('approver'),
  Type.Literal('viewer'),
  Type.Literal('tenant_contact'),
]);
export type AdminRole = Static<typeof AdminRole>;

export const AdminToken = Type.Object({
  id: Type.String(),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  role: AdminRole,
  /** Set for tenant_contact tokens: the one tenant they may see and act on. */
  tenantId: Type.Union([Id, Type.Null()]),
  prefix: Type.String(),
  tokenHash: Type.String(),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  ...Meta,
});
export type AdminToken = Static<typeof AdminToken>;

/** Every record kind the registry versions and audits, mapped to its type. */
export interface EntityTypes {
  tenant: Tenant;
  api_key: ApiKey;
  model_version: ModelVersion;
  tenant_channel: TenantChannel;
  contract: Contract;
  rollout_group: RolloutGroup;
  admin_token: AdminToken;
}
export type EntityKind = keyof EntityTypes;
export type AnyEntity = EntityTypes[EntityKind];

export type AuditOp = 'create' | 'update' | 'delete';

export interface AuditEntry {
  /** Monotonic sequence number; orders the log. */
  seq: number;
  id: string;
  at: string;
  actor: string;
  /** What was done, e.g. `tenant.update`, `api_key.revoke`, `revert`. */
  action: string;
  op: AuditOp;
  entityKind: EntityKind;
  entityId: string;
  tenantId: string | null;
  before: AnyEntity | null;
  after: AnyEntity | null;
  reason: string | null;
  /** For a revert: the audit entry it reverted. */
  revertsId: string | null;
  requestId: string | null;
}
