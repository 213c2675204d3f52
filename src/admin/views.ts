import { Type } from '@sinclair/typebox';
import {
  AdminToken,
  type AnyEntity,
  ApiKey,
  type AuditEntry,
  Contract,
  ModelVersion,
  RolloutGroup,
  Tenant,
  TenantChannel,
} from '../registry/types.js';

/**
 * What the admin API returns. Response schemas double as the serializer, so a field not listed
 * here (a key or token hash) can never leak into a response.
 */
export const TenantView = Tenant;
export const ApiKeyView = Type.Omit(ApiKey, ['keyHash']);
export const ApiKeyWithSecret = Type.Object({
  key: ApiKeyView,
  secret: Type.String({ description: 'shown once; only its hash is stored' }),
});
export const ModelVersionView = ModelVersion;
export const TenantChannelView = TenantChannel;
export const ContractView = Contract;
export const RolloutGroupView = RolloutGroup;
export const AdminTokenView = Type.Omit(AdminToken, ['tokenHash']);
export const AdminTokenWithSecret = Type.Object({
  token: AdminTokenView,
  secret: Type.String({ description: 'shown once; only its hash is stored' }),
});

export const AuditEntryView = Type.Object({
  seq: Type.Integer(),
  id: Type.String(),
  at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  op: Type.String(),
  entityKind: Type.String(),
  entityId: Type.String(),
  tenantId: Type.Union([Type.String(), Type.Null()]),
  before: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  after: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  revertsId: Type.Union([Type.String(), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
});

const SECRET_FIELDS = new Set(['keyHash', 'tokenHash']);
const redact = (e: AnyEntity | null) =>
  e === null ? null : Object.fromEntries(Object.entries(e).filter(([k]) => !SECRET_FIELDS.has(k)));

/** Audit before/after are free-form records: hashes are removed here, by name. */
export function auditView(e: AuditEntry) {
  return { ...e, before: redact(e.before), after: redact(e.after) };
}

export const listOf = <T extends Parameters<typeof Type.Array>[0]>(item: T) =>
  Type.Object({ items: Type.Array(item) });
