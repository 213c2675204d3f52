import type { ModelVersion } from '../registry/types.js';

/** Prices in currency units (USD by convention) per million tokens. */
export interface Price {
  inputPerMTok: number;
  outputPerMTok: number;
}

/**
 * Token prices, by model version id or by upstream model name (the version id wins). The
 * registry does not hold prices (they change more often than versions), so they come from
 * configuration; a version without one gets no cost (null), never a guessed one.
 */
export class Pricing {
  constructor(private readonly prices: Readonly<Record<string, Price>> = {}) {}

  cost(version: ModelVersion, inputTokens: number, outputTokens: number): number | null {
    const p = this.prices[version.id] ?? this.prices[version.upstreamModel];
    if (!p) return null;
    return (inputTokens * p.inputPerMTok + outputTokens * p.outputPerMTok) / 1_000_000;
  }
}

/** Sums costs where null means unknown: unknown only when every part is unknown. */
export function addCost(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return a + b;
}
