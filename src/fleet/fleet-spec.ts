/**
 * A fleet: the tenants that share one channel, the two model versions an upgrade moves them
 * between, and for each tenant its tools, output format, golden cases and traffic. The demo that
 * `switchyard serve` starts with no configuration, and `switchyard simulate`'s scenarios, are
 * fleets; `seedFleet` writes one into the registry and BETS.
 */
import { type Static, Type } from '@sinclair/typebox';
import { CaseSpec } from '../bets/bets-types.js';
import { ActionPolicy, FailurePolicy, Id, RiskProfile } from '../registry/types.js';

const strict = { additionalProperties: false } as const;

export const FleetVersion = Type.Object(
  {
    id: Id,
    /** The model name the provider (or the simulator) knows. */
    upstreamModel: Type.String({ minLength: 1, maxLength: 200 }),
  },
  strict,
);
export type FleetVersion = Static<typeof FleetVersion>;

export const InlineTool = Type.Object(
  {
    name: Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$' }),
    description: Type.Optional(Type.String({ maxLength: 4000 })),
    parameters: Type.Record(Type.String(), Type.Unknown()),
  },
  strict,
);
export type InlineTool = Static<typeof InlineTool>;

/** Cases (and the tools they offer) taken from a BFCL file: `count` cases from `offset`. */
export const BfclSlice = Type.Object(
  {
    file: Type.String({ minLength: 1, description: 'BFCL file name without .json, e.g. BFCL_v4_multiple' }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
    count: Type.Integer({ minimum: 1, maximum: 500 }),
  },
  strict,
);
export type BfclSlice = Static<typeof BfclSlice>;

export const OutputFormat = Type.Union([
  Type.Object(
    { kind: Type.Literal('json_schema'), schema: Type.Record(Type.String(), Type.Unknown()) },
    strict,
  ),
  Type.Object({ kind: Type.Literal('regex'), pattern: Type.String({ minLength: 1 }) }, strict),
]);
export type OutputFormat = Static<typeof OutputFormat>;

export const FleetTenant = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    /** What the agent does, shown in the README and the dashboard. */
    role: Type.String({ maxLength: 500 }),
    group: Id,
    failurePolicy: Type.Optional(FailurePolicy),
    actionPolicy: Type.Optional(ActionPolicy),
    riskProfile: Type.Optional(Type.Partial(RiskProfile, strict)),
    frozen: Type.Optional(Type.Boolean()),
    /** The agent's system prompt (its cases and simulated traffic use it). */
    system: Type.Optional(Type.String({ maxLength: 20_000 })),
    bfcl: Type.Optional(BfclSlice),
    tools: Type.Array(InlineTool, { default: [] }),
    format: Type.Optional(OutputFormat),
    cases: Type.Array(CaseSpec, { default: [] }),
    /** Requests per hour of live traffic its agents send. */
    requestsPerHour: Type.Number({ minimum: 0, default: 600 }),
  },
  strict,
);
export type FleetTenant = Static<typeof FleetTenant>;

export const FleetSpec = Type.Object(
  {
    channel: Id,
    stable: FleetVersion,
    candidate: FleetVersion,
    /** The pinned judge model for semantic assertions. */
    judge: Type.Optional(FleetVersion),
    tenants: Type.Array(FleetTenant, { minItems: 1, maxItems: 2000 }),
  },
  strict,
);
export type FleetSpec = Static<typeof FleetSpec>;
