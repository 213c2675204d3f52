import { hash } from 'node:crypto';

/** Buckets per 100%: a canary percentage has a resolution of 0.01%. */
export const BUCKETS = 10_000;

/**
 * The session's canary bucket, 0..9999: a hash of tenant, session and upgrade, so the same
 * session always lands in the same bucket for one upgrade (raising the percentage only adds
 * buckets), and a new upgrade reshuffles who goes first.
 */
export function canaryBucket(tenantId: string, sessionId: string, upgradeId: string | null): number {
  return (
    hash('sha256', `${tenantId}\u0000${sessionId}\u0000${upgradeId ?? ''}`, 'buffer').readUInt32BE(0) %
    BUCKETS
  );
}

/** True when the bucket falls inside `canaryPercent` (0..100). */
export function inCanary(bucket: number, canaryPercent: number): boolean {
  return bucket < Math.round(canaryPercent * (BUCKETS / 100));
}
