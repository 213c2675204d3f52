import type { ChannelRoute, RoutingSnapshot, TenantRoute } from '../../registry/routing-snapshot.js';
import type { ModelVersion } from '../../registry/types.js';
import type { Clock } from '../../shared/clock.js';
import type { SessionPinStore } from '../pins/session-pin-store.js';
import { canaryBucket, inCanary } from './bucket.js';

export type Cohort = 'stable' | 'canary';

export interface RouteDecision {
  readonly version: ModelVersion;
  /** canary when the version is the channel's candidate, else stable (the control cohort). */
  readonly cohort: Cohort;
  /** The session was moved off its version (hard cut, or the version is gone): tell the client. */
  readonly reset: boolean;
}

/**
 * Decides which concrete version serves a request, from the snapshot and the session's pin:
 *   1. a pin wins, as long as its version still serves (not retired, warm period not over)
 *      and it was not hard-cut; otherwise the session moves to stable and is told so;
 *   2. without a pin: stable when the tenant is frozen, the binding is pinned or there is no
 *      candidate; else the session's deterministic bucket against the canary percentage;
 *   3. the decision is written as the pin (first writer wins, so the stored pin is used).
 * Pins are per channel: a session that talks to two channels has a version on each.
 */
export class Router {
  constructor(
    private readonly pins: SessionPinStore,
    private readonly clock: Clock,
    private readonly pinTtlMs: number,
  ) {}

  async decide(
    snapshot: RoutingSnapshot,
    tenant: TenantRoute,
    route: ChannelRoute,
    sessionId: string,
  ): Promise<RouteDecision> {
    const tenantId = tenant.tenant.id;
    const key = `${route.binding.channel}:${sessionId}`;
    let pin = this.pins.peek(tenantId, key);
    if (!pin) {
      const wanted = this.bucketed(tenant, route, sessionId);
      pin = await this.pins.getOrSet(tenantId, key, wanted.id, this.pinTtlMs);
    }
    const pinned = pin.cut ? undefined : this.serving(snapshot, pin.versionId);
    if (pinned) return { version: pinned, cohort: cohortOf(route, pinned), reset: false };
    this.pins.replace(tenantId, key, route.stable.id, this.pinTtlMs);
    return { version: route.stable, cohort: 'stable', reset: true };
  }

  private bucketed(tenant: TenantRoute, route: ChannelRoute, sessionId: string): ModelVersion {
    const { binding, candidate } = route;
    if (!candidate || tenant.frozen || binding.pinned || binding.canaryPercent <= 0) return route.stable;
    const bucket = canaryBucket(tenant.tenant.id, sessionId, binding.upgradeId);
    return inCanary(bucket, binding.canaryPercent) ? candidate : route.stable;
  }

  /** The pinned version if it may still serve its sessions. */
  private serving(snapshot: RoutingSnapshot, versionId: string): ModelVersion | undefined {
    const v = snapshot.models.get(versionId);
    if (!v || v.lifecycle === 'retired') return undefined;
    if (v.warmUntil !== null && v.lifecycle === 'warm' && Date.parse(v.warmUntil) <= this.clock.now())
      return undefined;
    return v;
  }
}

export function cohortOf(route: ChannelRoute, version: ModelVersion): Cohort {
  return route.candidate !== null && version.id === route.candidate.id ? 'canary' : 'stable';
}
