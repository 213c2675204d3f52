import { type CohortDriftReport, compareCohorts } from '../../contracts/drift-cohort.js';
import type { ObservedResponse, PairComparison } from '../../contracts/drift-compare.js';
import {
  type DriftProfile,
  type DriftRates,
  driftRates,
  emptyDriftProfile,
  mergeDriftProfiles,
  recordCohortResponse,
  recordPair,
} from '../../contracts/drift-profile.js';
import type { DriftProfileStore } from './drift-store.js';

/** One channel's drift for a stable -> candidate pair, with the derived rates and cohort report. */
export interface DriftView {
  channel: string;
  stableVersionId: string;
  candidateVersionId: string;
  profile: DriftProfile;
  rates: DriftRates;
  cohorts: CohortDriftReport;
}

/**
 * The read port for the rollback controller and the admin API. `profile` answers for the pair
 * observed most recently on the channel (the current upgrade); `list` gives every pair.
 */
export interface DriftProfileReader {
  profile(tenantId: string, channel: string): Promise<DriftView | null>;
  list(tenantId: string): Promise<DriftView[]>;
}

interface Pending {
  channel: string;
  profile: DriftProfile;
}

/**
 * Collects drift evidence on the gateway: shadow pairs and each cohort's answers, counted into
 * per-tenant, per-channel, per-version-pair profiles in memory. Only the counts not yet saved
 * are held (bounded by the number of version pairs in use, each profile capped in size); a
 * timer adds them to the store, so the store holds the totals of every gateway process and a
 * reader sees the store plus this process's unsaved counts. Without a store, memory keeps all.
 */
export class DriftTracker implements DriftProfileReader {
  private pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly store: DriftProfileStore | null,
    private readonly opts: { flushIntervalMs: number; now: () => number; onError: (err: unknown) => void },
  ) {}

  start(): void {
    if (!this.store || this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.opts.flushIntervalMs);
    this.timer.unref();
  }

  recordPair(
    tenantId: string,
    channel: string,
    stableId: string,
    candidateId: string,
    comparison: PairComparison,
  ): void {
    recordPair(this.entry(tenantId, channel, stableId, candidateId), comparison, this.opts.now());
  }

  /** One answer of a live cohort: `canary` when the candidate produced it, else `control`. */
  recordCohort(
    tenantId: string,
    channel: string,
    stableId: string,
    candidateId: string,
    cohort: 'control' | 'canary',
    response: ObservedResponse,
  ): void {
    recordCohortResponse(
      this.entry(tenantId, channel, stableId, candidateId),
      cohort,
      response,
      this.opts.now(),
    );
  }

  /** Adds the unsaved counts to the store; on failure they are kept for the next attempt. */
  flush(): Promise<void> {
    if (!this.store) return Promise.resolve();
    if (this.flushing) return this.flushing.then(() => this.flush());
    if (this.pending.size === 0) return Promise.resolve();
    const batch = this.pending;
    this.pending = new Map();
    const store = this.store;
    this.flushing = store
      .merge([...batch.values()], this.opts.now())
      .catch((err: unknown) => {
        // Merging is by addition: what was not saved goes back with what arrived meanwhile.
        for (const [k, p] of batch) {
          const now = this.pending.get(k);
          this.pending.set(
            k,
            now ? { channel: p.channel, profile: mergeDriftProfiles(p.profile, now.profile) } : p,
          );
        }
        this.opts.onError(err);
      })
      .finally(() => {
        this.flushing = null;
      });
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  async list(tenantId: string): Promise<DriftView[]> {
    const merged = new Map<string, Pending>();
    for (const s of this.store ? await this.store.list(tenantId) : []) {
      merged.set(keyOf(tenantId, s.channel, s.profile.stableVersionId, s.profile.candidateVersionId), {
        channel: s.channel,
        profile: s.profile,
      });
    }
    for (const [k, p] of this.pending) {
      if (p.profile.tenantId !== tenantId) continue;
      const stored = merged.get(k);
      merged.set(
        k,
        stored ? { channel: p.channel, profile: mergeDriftProfiles(stored.profile, p.profile) } : p,
      );
    }
    return [...merged.values()]
      .map(view)
      .sort(
        (a, b) => (b.profile.lastAt ?? 0) - (a.profile.lastAt ?? 0) || a.channel.localeCompare(b.channel),
      );
  }

  async profile(tenantId: string, channel: string): Promise<DriftView | null> {
    return (await this.list(tenantId)).find((v) => v.channel === channel) ?? null;
  }

  private entry(tenantId: string, channel: string, stableId: string, candidateId: string): DriftProfile {
    const k = keyOf(tenantId, channel, stableId, candidateId);
    let p = this.pending.get(k);
    if (!p) {
      p = { channel, profile: emptyDriftProfile(tenantId, stableId, candidateId) };
      this.pending.set(k, p);
    }
    return p.profile;
  }
}

function keyOf(tenantId: string, channel: string, stableId: string, candidateId: string): string {
  return `${tenantId}\u0000${channel}\u0000${stableId}\u0000${candidateId}`;
}

function view(p: Pending): DriftView {
  return {
    channel: p.channel,
    stableVersionId: p.profile.stableVersionId,
    candidateVersionId: p.profile.candidateVersionId,
    profile: p.profile,
    rates: driftRates(p.profile),
    cohorts: compareCohorts(p.profile.cohorts.control, p.profile.cohorts.canary),
  };
}
