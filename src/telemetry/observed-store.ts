import type { TelemetryEvent, TelemetryEventStore } from './telemetry-event.js';

/**
 * Something that derives data from the telemetry stream (per-minute rollups, Prometheus metrics,
 * OpenTelemetry spans). It sees every batch the gateway's sink writes, off the response path.
 */
export interface TelemetryObserver {
  /** `stored` is false when the batch's write failed (its events are lost and counted). */
  observe(batch: readonly TelemetryEvent[], stored: boolean): void;
}

/**
 * The telemetry store the gateway writes to: the SQL store first, then every observer. An
 * observer that throws is reported and skipped; it never fails the write or the other observers.
 */
export class ObservedTelemetryStore implements TelemetryEventStore {
  private readonly observers: TelemetryObserver[] = [];

  constructor(
    private readonly inner: TelemetryEventStore,
    private readonly onObserverError: (err: unknown) => void = () => {},
  ) {}

  add(observer: TelemetryObserver): void {
    this.observers.push(observer);
  }

  async append(events: readonly TelemetryEvent[]): Promise<void> {
    let stored = false;
    try {
      await this.inner.append(events);
      stored = true;
    } finally {
      for (const o of this.observers) {
        try {
          o.observe(events, stored);
        } catch (err) {
          this.onObserverError(err);
        }
      }
    }
  }
}
