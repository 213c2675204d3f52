import { type Static, Type } from '@sinclair/typebox';
import {
  ActionPolicy,
  AdminRole,
  Contact,
  ContractDefinition,
  FailurePolicy,
  Id,
  Lifecycle,
  ModelVersion,
  ProviderKind,
  RiskProfile,
  RolloutPlan,
} from './types.js';

/** What clients send to create or change registry records. Unknown fields are rejected. */
const strict = { additionalProperties: false } as const;
const Reason = Type.Optional(
  Type.String({ maxLength: 2000, description: 'why this change is made; kept in the audit log' }),
);

export const TenantCreate = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    rolloutGroup: Type.Optional(Id),
    frozen: Type.Optional(Type.Boolean()),
    failurePolicy: Type.Optional(FailurePolicy),
    actionPolicy: Type.Optional(ActionPolicy),
    riskProfile: Type.Optional(Type.Partial(RiskProfile, strict)),
    contacts: Type.Optional(Type.Array(Contact, { maxItems: 20 })),
    reason: Reason,
  },
  strict,
);
export type TenantCreate = Static<typeof TenantCreate>;

export const TenantPatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    rolloutGroup: Type.Optional(Id),
    frozen: Type.Optional(Type.Boolean()),
    failurePolicy: Type.Optional(FailurePolicy),
    actionPolicy: Type.Optional(ActionPolicy),
    riskProfile: Type.Optional(Type.Partial(RiskProfile, strict)),
    contacts: Type.Optional(Type.Array(Contact, { maxItems: 20 })),
    reason: Reason,
  },
  strict,
);
export type TenantPatch = Static<typeof TenantPatch>;

export const ApiKeyCreate = Type.Object(
  {
    label: Type.Optional(Type.String({ maxLength: 200 })),
    expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
    reason: Reason,
  },
  strict,
);
export type ApiKeyCreate = Static<typeof ApiKeyCreate>;

export const ApiKeyRotate = Type.Object(
  {
    /** How long the old key keeps working, so agents can be redeployed; 0 revokes it at once. */
    graceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 * 24 * 3600 })),
    reason: Reason,
  },
  strict,
);
export type ApiKeyRotate = Static<typeof ApiKeyRotate>;

export const ModelCreate = Type.Object(
  {
    id: Id,
    channel: Id,
    providerKind: ProviderKind,
    upstreamModel: Type.String({ minLength: 1, maxLength: 200 }),
    endpoint: ModelVersion.properties.endpoint,
    credentialsRef: Type.Optional(ModelVersion.properties.credentialsRef),
    lifecycle: Type.Optional(Lifecycle),
    warmUntil: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
    reason: Reason,
  },
  strict,
);
export type ModelCreate = Static<typeof ModelCreate>;

export const ModelPatch = Type.Object(
  {
    upstreamModel: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    endpoint: Type.Optional(ModelVersion.properties.endpoint),
    credentialsRef: Type.Optional(ModelVersion.properties.credentialsRef),
    lifecycle: Type.Optional(Lifecycle),
    warmUntil: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
    reason: Reason,
  },
  strict,
);
export type ModelPatch = Static<typeof ModelPatch>;

export const ChannelBind = Type.Object(
  {
    channel: Id,
    stableVersionId: Id,
    candidateVersionId: Type.Optional(Type.Union([Id, Type.Null()])),
    canaryPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    shadowPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    upgradeId: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
    pinned: Type.Optional(Type.Boolean()),
    reason: Reason,
  },
  strict,
);
export type ChannelBind = Static<typeof ChannelBind>;

export const ChannelPatch = Type.Object(
  {
    stableVersionId: Type.Optional(Id),
    candidateVersionId: Type.Optional(Type.Union([Id, Type.Null()])),
    canaryPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    shadowPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    upgradeId: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
    pinned: Type.Optional(Type.Boolean()),
    reason: Reason,
  },
  strict,
);
export type ChannelPatch = Static<typeof ChannelPatch>;

export const ContractCreate = Type.Object(
  {
    modelVersionId: Id,
    name: Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$' }),
    definition: ContractDefinition,
    reason: Reason,
  },
  strict,
);
export type ContractCreate = Static<typeof ContractCreate>;

export const ContractPatch = Type.Object({ definition: ContractDefinition, reason: Reason }, strict);
export type ContractPatch = Static<typeof ContractPatch>;

export const GroupCreate = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    rank: Type.Integer({ minimum: 0 }),
    plan: RolloutPlan,
    reason: Reason,
  },
  strict,
);
export type GroupCreate = Static<typeof GroupCreate>;

export const GroupPatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    rank: Type.Optional(Type.Integer({ minimum: 0 })),
    plan: Type.Optional(RolloutPlan),
    reason: Reason,
  },
  strict,
);
export type GroupPatch = Static<typeof GroupPatch>;

export const AdminTokenCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    role: AdminRole,
    tenantId: Type.Optional(Id),
    reason: Reason,
  },
  strict,
);
export type AdminTokenCreate = Static<typeof AdminTokenCreate>;

export const RevertRequest = Type.Object({ reason: Reason }, strict);
export type RevertRequest = Static<typeof RevertRequest>;
