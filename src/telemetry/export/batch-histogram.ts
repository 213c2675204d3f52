import type { Metric, Registry } from 'prom-client';

type Labels = Record<string, string>;

/** One exposition sample, as prom-client's registry formats it. */
interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** One label set's buckets (not cumulative: `counts[i]` is observations in bucket i only). */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    // One slot per bound plus +Inf.
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    // Linear: latencies sit in the first few buckets, where this beats a binary search.
    while (i < b.length && value > (b[i] as number)) i++;
    (this.counts[i] as number)++;
    this.sum += value;
    this.count++;
  }
}

/**
 * A Prometheus histogram whose series are looked up once and then observed directly, for the
 * telemetry observer's batches. prom-client's Histogram validates and hashes the label object on
 * every observation, which was most of the cost of exporting request latencies; here a caller keeps
 * the `HistogramSeries` for a label set and an observation is a short scan and three additions.
 * The exposition (buckets with `le`, `_sum`, `_count`) is prom-client's, through its registry.
 */
export class BatchHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    // The registry only needs name, help, type, aggregator, get() and reset(); prom-client's
    // Metric type is a union of its own classes, hence the cast.
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series of a label set, by a key the caller derives from the same label values. */
  seriesFor(key: string, labels: () => Labels): HistogramSeries {
    let s = this.series.get(key);
    if (!s) {
      s = new HistogramSeries(labels(), this.bounds);
      this.series.set(key, s);
    }
    return s;
  }

  /** Zeroes every series (kept: callers hold on to them). */
  reset(): void {
    for (const s of this.series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const values: Sample[] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i < s.counts.length; i++) {
        cumulative += s.counts[i] as number;
        const le = i < this.bounds.length ? (this.bounds[i] as number) : '+Inf';
        values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
