import type { RegistryStore } from '../registry/registry-store.js';
import type { Clock } from '../shared/clock.js';
import { invalidInput, isSwitchyardError } from '../shared/errors.js';
import { newId } from '../shared/ids.js';
import type { BetsStore } from './bets-store.js';
import type { FleetRunRecord } from './capture-types.js';
import type { RunService } from './run-service.js';
import type { RunOptions, TenantVerdict } from './run-types.js';

export interface FleetRequest {
  channel: string;
  /** Default: each tenant's candidate on the channel. */
  candidateVersionId?: string;
  /** Only tenants whose channel binding belongs to this upgrade. */
  upgradeId?: string;
  /** Only these tenants. */
  tenants?: string[];
  options?: Partial<RunOptions>;
}

export interface FleetStart {
  fleetRun: FleetRunRecord;
  skipped: { tenantId: string; reason: string }[];
  /** Each tenant's verdict as soon as all of its suites have run, in the order they finish. */
  verdicts: AsyncIterable<TenantVerdict>;
  /** Resolves when every tenant has its verdict. */
  done: Promise<void>;
}

/** A push-driven async iterator: producers push, one consumer awaits. */
class Channel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | undefined;
  private ended = false;

  push(item: T): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w({ value: item, done: false });
    } else this.items.push(item);
  }
  end(): void {
    this.ended = true;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = undefined;
  }
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiting = resolve;
        });
      },
    };
  }
}

/**
 * A fleet run: every eligible tenant of an upgrade at once, all sharing the process's provider
 * rate limits and in-flight bound (RunService's), each tenant's verdict delivered when ready.
 */
export class FleetService {
  constructor(
    private readonly store: BetsStore,
    private readonly registry: RegistryStore,
    private readonly runs: RunService,
    private readonly clock: Clock,
  ) {}

  async start(req: FleetRequest, actor: string, onVerdict?: (v: TenantVerdict) => void): Promise<FleetStart> {
    const wanted = req.tenants && new Set(req.tenants);
    const bindings = (await this.registry.list('tenant_channel')).filter(
      (b) =>
        b.channel === req.channel &&
        (req.upgradeId === undefined || b.upgradeId === req.upgradeId) &&
        (!wanted || wanted.has(b.tenantId)),
    );
    const skipped: FleetStart['skipped'] = [];
    const eligible: { tenantId: string; candidate: string; workflows: string[] }[] = [];
    for (const b of bindings) {
      const tenant = await this.registry.get('tenant', b.tenantId);
      const candidate = req.candidateVersionId ?? b.candidateVersionId;
      const suites = await this.store.listSuites({ tenantId: b.tenantId, channel: req.channel });
      const reason = !tenant
        ? 'tenant not found'
        : tenant.frozen
          ? 'tenant is frozen'
          : b.pinned
            ? 'pinned by contract on this channel'
            : !candidate
              ? 'no candidate version on this channel'
              : suites.length === 0
                ? 'no BETS suite for this channel'
                : null;
      if (reason || !candidate) skipped.push({ tenantId: b.tenantId, reason: reason ?? 'no candidate' });
      else eligible.push({ tenantId: b.tenantId, candidate, workflows: suites.map((s) => s.workflow) });
    }
    if (eligible.length === 0) {
      throw invalidInput(
        `no eligible tenant on channel '${req.channel}'`,
        skipped.map((s) => ({ path: s.tenantId, message: s.reason })),
      );
    }
    const now = new Date(this.clock.now()).toISOString();
    const fleetRun: FleetRunRecord = {
      id: newId('fleet'),
      upgradeId: req.upgradeId ?? null,
      channel: req.channel,
      candidateVersionId: req.candidateVersionId ?? (eligible[0]?.candidate as string),
      status: 'running',
      tenants: eligible.map((e) => e.tenantId),
      createdBy: actor,
      createdAt: now,
      finishedAt: null,
    };
    await this.store.insertFleetRun(fleetRun);
    const channel = new Channel<TenantVerdict>();
    const perTenant = eligible.map(async (e) => {
      const started = [];
      for (const workflow of e.workflows) {
        try {
          started.push(
            await this.runs.startRun(
              {
                tenantId: e.tenantId,
                workflow,
                candidateVersionId: e.candidate,
                ...(req.upgradeId !== undefined ? { upgradeId: req.upgradeId } : {}),
                fleetRunId: fleetRun.id,
                ...(req.options ? { options: req.options } : {}),
              },
              actor,
            ),
          );
        } catch (err) {
          if (!isSwitchyardError(err)) throw err;
          skipped.push({ tenantId: e.tenantId, reason: `${workflow}: ${err.message}` });
        }
      }
      await Promise.all(started.map((r) => this.runs.settled(r.id)));
      const last = started[started.length - 1];
      const verdict = last && (await this.runs.verdictAfter(last));
      if (verdict) {
        onVerdict?.(verdict);
        channel.push(verdict);
      }
    });
    const done = Promise.all(perTenant)
      .then(() => this.store.finishFleetRun(fleetRun.id, new Date(this.clock.now()).toISOString()))
      .finally(() => channel.end());
    return { fleetRun, skipped, verdicts: channel, done };
  }
}
