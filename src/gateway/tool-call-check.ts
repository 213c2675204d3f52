import type { WireKind } from './wire/wire-format.js';

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
