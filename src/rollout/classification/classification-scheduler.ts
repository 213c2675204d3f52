import type { Clock } from '../../shared/clock.js';
import type { ClassificationService, FleetRunResult } from './classification-service.js';
import type { SqlClassificationStore } from './classification-store.js';

const DAY_MS = 24 * 3600 * 1000;

export interface ClassificationSchedulerOptions {
  service: Pick<ClassificationService, 'runFleet'>;
  store: SqlClassificationStore;
  clock: Clock;
  /** Days between fleet re-evaluations (config `classification.intervalDays`). */
  intervalDays: number;
  /** This process, as written to the schedule row (e.g. `host:pid`). */
  holder: string;
  /** How often the schedule is checked; 1 hour by default. */
  checkEveryMs?: number;
  /**
   * A run that started this long ago and never finished (its process died, or the run failed)
   * is due again; 1 hour by default.
   */
  staleAfterMs?: number;
  /** The schedule's row name; one schedule per name. */
  name?: string;
  onError?: (err: unknown) => void;
  onRun?: (result: FleetRunResult) => void;
}

export type ScheduleTick =
  | { ran: false; reason: 'started' | 'not_due' | 'in_progress' | 'claimed_elsewhere'; nextDueAt: number }
  | { ran: true; result: FleetRunResult };

/** The summary kept on the schedule row: counts and the moves, without the full explanations. */
function summary(r: FleetRunResult) {
  return {
    at: r.at,
    evaluated: r.evaluated,
    moves: r.moves.map((m) => ({
      tenantId: m.tenantId,
      from: m.fromGroupId,
      to: m.groupId,
      recordId: m.recordId,
    })),
    updated: r.updated.length,
    held: r.held.map((h) => ({ tenantId: h.tenantId, why: h.held })),
    unchanged: r.unchanged.length,
    failed: r.failed,
  };
}

/**
 * Runs the fleet-wide re-evaluation in apply mode once per interval (quarterly by default),
 * whatever the number of processes: the schedule is one row, and a due run is claimed with a
 * guarded write, so exactly one process runs it and the others see it taken.
 *
 * A schedule with no row starts when first seen, and its first run comes one interval later:
 * installing or upgrading Switchyard never moves tenants by itself (`switchyard classify --all
 * --apply` evaluates at once). A run that fails or whose process dies is retried once it is
 * `staleAfterMs` old; moves already applied stay applied, and re-evaluating is idempotent.
 */
export class ClassificationScheduler {
  private readonly intervalMs: number;
  private readonly checkEveryMs: number;
  private readonly staleAfterMs: number;
  private readonly name: string;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<unknown> | undefined;

  constructor(private readonly opts: ClassificationSchedulerOptions) {
    if (!(opts.intervalDays > 0)) throw new Error('classification intervalDays must be positive');
    this.intervalMs = opts.intervalDays * DAY_MS;
    this.checkEveryMs = opts.checkEveryMs ?? 3600_000;
    this.staleAfterMs = opts.staleAfterMs ?? 3600_000;
    this.name = opts.name ?? 'fleet';
  }

  /** Checks the schedule once and runs the re-evaluation if it is due and this process claims it. */
  async tick(): Promise<ScheduleTick> {
    const { store, clock, holder } = this.opts;
    const now = clock.now();
    let seen = await store.getSchedule(this.name);
    if (!seen) {
      if (await store.initSchedule(this.name, now, holder)) {
        return { ran: false, reason: 'started', nextDueAt: now + this.intervalMs };
      }
      // Another process started it between our read and our insert.
      seen = await store.getSchedule(this.name);
      if (!seen) throw new Error(`classification schedule '${this.name}' vanished`);
    }
    const finished = seen.finishedAt !== null && seen.finishedAt >= seen.startedAt;
    if (!finished && now < seen.startedAt + this.staleAfterMs) {
      return { ran: false, reason: 'in_progress', nextDueAt: seen.startedAt + this.staleAfterMs };
    }
    const dueAt = finished ? seen.startedAt + this.intervalMs : seen.startedAt + this.staleAfterMs;
    if (now < dueAt) return { ran: false, reason: 'not_due', nextDueAt: dueAt };
    if (!(await store.claimSchedule(seen, now, holder))) {
      return { ran: false, reason: 'claimed_elsewhere', nextDueAt: now + this.intervalMs };
    }
    const result = await this.opts.service.runFleet(
      {
        actor: 'system:classification',
        reason: `scheduled re-evaluation (every ${this.opts.intervalDays} days)`,
      },
      { apply: true, trigger: 'schedule' },
    );
    await store.finishSchedule(this.name, now, holder, clock.now(), summary(result));
    this.opts.onRun?.(result);
    return { ran: true, result };
  }

  /** Checks now and then every `checkEveryMs`; a failed check is reported and retried later. */
  start(): void {
    if (this.timer) return;
    const check = () => {
      if (this.inFlight) return;
      this.inFlight = this.tick()
        .catch((err: unknown) => this.opts.onError?.(err))
        .finally(() => {
          this.inFlight = undefined;
        });
    };
    this.timer = setInterval(check, this.checkEveryMs);
    this.timer.unref();
    check();
  }

  /** Stops checking and waits for a check in progress to end. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }
}
