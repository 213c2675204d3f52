/**
 * The PRNG of one request, from (simulator seed, model, tenant, request identity, occurrence).
 *
 * Why the occurrence count: the same request sent twice must be allowed to get different
 * answers (a 10% error rate has to fail some repeats), yet a run must replay exactly. Counting
 * repeats of each distinct request gives the n-th repeat the same seed in every run, whatever
 * order concurrent requests arrive in: ordering only swaps which of two identical requests gets
 * which of two seeds. The tenant is part of the identity because drift is scoped by tenant: two
 * tenants' identical requests must not share (and race for) one count.
 */
import { Rng, requestKey } from './prng.js';

/** Above this many distinct requests the counts restart (bounded memory in long benchmarks). */
const MAX_TRACKED = 500_000;

export class RequestSeeder {
  private readonly counts = new Map<string, number>();

  constructor(private readonly seed: number) {}

  rngFor(model: string, tenant: string | undefined, identity: string): Rng {
    const key = requestKey(`${model}\u0000${tenant ?? ''}\u0000${identity}`);
    const occurrence = this.counts.get(key) ?? 0;
    if (this.counts.size >= MAX_TRACKED && occurrence === 0) this.counts.clear();
    this.counts.set(key, occurrence + 1);
    return new Rng(`${this.seed}|${model}|${tenant ?? ''}|${key}|${occurrence}`);
  }
}
