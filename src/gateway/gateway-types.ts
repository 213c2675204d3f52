import type { FastifyBaseLogger } from 'fastify';

/** The logger the gateway writes to (pino's interface; a pino logger or fastify's works). */
export type GatewayLogger = Pick<FastifyBaseLogger, 'error' | 'warn' | 'info'>;

/** Plain counters, read by stats() and the metrics endpoint. */
export interface GatewayCounters {
  requests: number;
  unauthenticated: number;
  sessionResets: number;
  /** Requests answered by stable instead of the routed version, by reason. */
  fallbacks: Record<string, number>;
}

export function newCounters(): GatewayCounters {
  return { requests: 0, unauthenticated: 0, sessionResets: 0, fallbacks: {} };
}
