import type { TenantRoute } from '../registry/routing-snapshot.js';
import type { Contract, ModelVersion } from '../registry/types.js';
import type { Cohort } from './routing/router.js';
import type { ParsedToolCall, WireKind } from './wire/wire-format.js';

/** What the response path knows when a version with contracts made tool calls. */
export interface ToolCallInspection {
  readonly tenant: TenantRoute;
  readonly channel: string;
  readonly version: ModelVersion;
  readonly cohort: Cohort;
  /** The tenant's contracts for this version, by tool (or format) name. */
  readonly contracts: ReadonlyMap<string, Contract>;
  readonly toolCalls: readonly ParsedToolCall[];
  readonly wire: WireKind;
  /** For a stream the answer has already been relayed: the verdict can only be recorded. */
  readonly stream: boolean;
}

/** The inspector's decision. Only `pass` exists until the tenant failure policies are built. */
export type ToolCallVerdict = { readonly action: 'pass' };

/**
 * The seam for tool-call contract checks: the gateway calls it with the parsed tool calls of
 * every answer whose version has contracts registered for the tenant (before a JSON answer is
 * sent; after a stream is relayed). Policies (fallback, error, coerce, pass) plug in here.
 */
export interface ToolCallInspector {
  inspect(input: ToolCallInspection): ToolCallVerdict;
}

export const PASS: ToolCallVerdict = Object.freeze({ action: 'pass' });

/** The inspector used until contract enforcement exists: every call passes. */
export const passThroughInspector: ToolCallInspector = { inspect: () => PASS };

/**
 * Where answered requests are offered for capture (BETS golden-case refresh, opt-in per tenant).
 * Called on the response path, so an implementation must only sample and enqueue; it must not
 * mutate `body`, which the gateway does not touch after the call either.
 */
export interface TrafficCapture {
  /** Whether this tenant's traffic may be captured: streams then keep their text (cheap check). */
  wants(tenantId: string): boolean;
  capture(
    tenantId: string,
    body: unknown,
    response: { text: string | null; toolCalls: readonly { name: string; arguments: string }[] },
    wire: WireKind,
  ): void;
}

export const noCapture: TrafficCapture = { wants: () => false, capture: () => {} };
