import type { Registry } from "prom-client";

/*
 * Counters, gauges and histograms for the per-call hot path. prom-client's
 * own classes find a series by hashing its labels on every update (about a
 * microsecond per update on a busy machine, several per call); here a caller
 * looks a series up once, keeps it, and updates plain numbers. The families
 * render themselves the way prom-client's metrics do (a `get()` its Registry
 * formats), so they sit in the same registry and exposition as the others.
 */

type Labels = Readonly<Record<string, string>>;

interface MetricValue {
  readonly labels: Labels;
  readonly value: number;
  readonly metricName?: string;
}

abstract class Family<Series> {
  private readonly series = new Map<string, { labels: Labels; series: Series }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge" | "histogram",
    private readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    // The Registry only needs name, help, type and get().
    registry.registerMetric(this as never);
  }

  /** The series with these label values (one value per label name, in order), created at zero the first time. */
  child(labels: Labels): Series {
    const key = this.labelNames.map((name) => labels[name] ?? "").join("\u0000");
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = { labels: { ...labels }, series: this.create() };
      this.series.set(key, entry);
    }
    return entry.series;
  }

  protected abstract create(): Series;
  protected abstract values(labels: Labels, series: Series): MetricValue[];

  /** What prom-client's Registry formats. */
  get(): { name: string; help: string; type: string; values: MetricValue[]; aggregator: "sum" } {
    const values = [...this.series.values()].flatMap(({ labels, series }) => this.values(labels, series));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: "sum" };
  }
}

/** A counter's or a gauge's value. */
export interface ValueSeries {
  value: number;
}

/** Counters (only ever incremented) and gauges (set, incremented and decremented). */
export class ValueFamily extends Family<ValueSeries> {
  constructor(type: "counter" | "gauge", options: { name: string; help: string; labelNames: readonly string[] }, registry: Registry) {
    super(options.name, options.help, type, options.labelNames, registry);
  }

  protected create(): ValueSeries {
    return { value: 0 };
  }

  protected values(labels: Labels, series: ValueSeries): MetricValue[] {
    return [{ labels, value: series.value }];
  }
}

export class HistogramSeries {
  /** Observations per bucket (not cumulative), the last one for +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const { bounds } = this;
    let bucket = 0;
    while (bucket < bounds.length && value > (bounds[bucket] as number)) bucket++;
    this.counts[bucket] = (this.counts[bucket] ?? 0) + 1;
    this.sum += value;
    this.count++;
  }
}

export class HistogramFamily extends Family<HistogramSeries> {
  private readonly buckets: readonly number[];

  constructor(options: { name: string; help: string; labelNames: readonly string[]; buckets: readonly number[] }, registry: Registry) {
    super(options.name, options.help, "histogram", options.labelNames, registry);
    this.buckets = [...options.buckets].sort((a, b) => a - b);
  }

  protected create(): HistogramSeries {
    return new HistogramSeries(this.buckets);
  }

  protected values(labels: Labels, series: HistogramSeries): MetricValue[] {
    const values: MetricValue[] = [];
    let cumulative = 0;
    for (const [index, bound] of [...this.buckets, Number.POSITIVE_INFINITY].entries()) {
      cumulative += series.counts[index] ?? 0;
      values.push({
        labels: { le: bound === Number.POSITIVE_INFINITY ? "+Inf" : String(bound), ...labels },
        value: cumulative,
        metricName: `${this.name}_bucket`,
      });
    }
    values.push({ labels, value: series.sum, metricName: `${this.name}_sum` });
    values.push({ labels, value: series.count, metricName: `${this.name}_count` });
    return values;
  }
}
