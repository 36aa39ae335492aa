/**
 * A small Prometheus metrics registry (text exposition format 0.0.4): counters, gauges and
 * histograms with labels. Hot paths hold a reference to a labelled child and bump a number; the text
 * is only built when /metrics is scraped.
 */

export type Labels = Record<string, string>;

// Labelled series can number in the thousands (one hashrate per worker on a farm): the common
// shapes (no label, one label, nothing to escape) take no arrays.
function labelKey(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return "";
  if (keys.length === 1) return `${keys[0] as string}=${labels[keys[0] as string] as string}`;
  keys.sort();
  return keys.map((k) => `${k}=${labels[k]}`).join("\u0000");
}

const NEEDS_ESCAPE = /[\\\n"]/;

function escapeLabel(v: string): string {
  if (!NEEDS_ESCAPE.test(v)) return v;
  return v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

function formatLabels(labels: Labels, extra?: [string, string]): string {
  let text = "";
  for (const k in labels) text += `${text === "" ? "" : ","}${k}="${escapeLabel(labels[k] as string)}"`;
  if (extra !== undefined) text += `${text === "" ? "" : ","}${extra[0]}="${escapeLabel(extra[1])}"`;
  return text === "" ? "" : `{${text}}`;
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  render(out: string[]): void;
}

export class CounterChild {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

export class Counter implements Metric {
  readonly type = "counter";
  private readonly children = new Map<string, { labels: Labels; child: CounterChild }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  labels(labels: Labels = {}): CounterChild {
    const key = labelKey(labels);
    let e = this.children.get(key);
    if (e === undefined) {
      e = { labels, child: new CounterChild() };
      this.children.set(key, e);
    }
    return e.child;
  }

  inc(by = 1, labels: Labels = {}): void {
    this.labels(labels).inc(by);
  }

  value(labels: Labels = {}): number {
    return this.children.get(labelKey(labels))?.child.value ?? 0;
  }

  render(out: string[]): void {
    for (const { labels, child } of this.children.values()) out.push(`${this.name}${formatLabels(labels)} ${formatNumber(child.value)}`);
  }
}

interface GaugeEntry {
  labels: Labels;
  value: number;
  /** The reset generation the value was set in: older ones are gone (see reset). */
  gen: number;
  /** `name{labels} `, built at the first render: a scrape-time gauge sets the same series again and again. */
  text: string | null;
}

export class Gauge implements Metric {
  readonly type = "gauge";
  private readonly values = new Map<string, GaugeEntry>();
  private gen = 0;
  private collector: (() => void) | null = null;
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  set(value: number, labels: Labels = {}): void {
    const key = labelKey(labels);
    const e = this.values.get(key);
    if (e === undefined) this.values.set(key, { labels, value, gen: this.gen, text: null });
    else {
      e.value = value;
      e.gen = this.gen;
    }
  }

  inc(by = 1, labels: Labels = {}): void {
    this.set(this.value(labels) + by, labels);
  }

  value(labels: Labels = {}): number {
    const e = this.values.get(labelKey(labels));
    return e !== undefined && e.gen === this.gen ? e.value : 0;
  }

  /**
   * Drops all label sets (for gauges recomputed at scrape time, e.g. per-worker hashrate). The
   * entries stay until the next render, so a series set again keeps its object and formatted labels
   * (one per worker on a farm: the scrape would otherwise rebuild thousands of them).
   */
  reset(): void {
    this.gen++;
  }

  /** Computes the value(s) at scrape time. */
  collect(fn: () => void): this {
    this.collector = fn;
    return this;
  }

  render(out: string[]): void {
    this.collector?.();
    for (const [key, e] of this.values) {
      if (e.gen !== this.gen) {
        this.values.delete(key);
        continue;
      }
      e.text ??= `${this.name}${formatLabels(e.labels)} `;
      out.push(e.text + formatNumber(e.value));
    }
  }
}

export class HistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly buckets: readonly number[]) {
    this.counts = new Float64Array(buckets.length);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) {
      if (v <= (this.buckets[i] as number)) this.counts[i] = (this.counts[i] as number) + 1;
    }
  }
}

export class Histogram implements Metric {
  readonly type = "histogram";
  private readonly children = new Map<string, { labels: Labels; child: HistogramChild }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  labels(labels: Labels = {}): HistogramChild {
    const key = labelKey(labels);
    let e = this.children.get(key);
    if (e === undefined) {
      e = { labels, child: new HistogramChild(this.buckets) };
      this.children.set(key, e);
    }
    return e.child;
  }

  observe(v: number, labels: Labels = {}): void {
    this.labels(labels).observe(v);
  }

  render(out: string[]): void {
    for (const { labels, child } of this.children.values()) {
      this.buckets.forEach((b, i) => {
        out.push(`${this.name}_bucket${formatLabels(labels, ["le", formatNumber(b)])} ${formatNumber(child.counts[i] as number)}`);
      });
      out.push(`${this.name}_bucket${formatLabels(labels, ["le", "+Inf"])} ${formatNumber(child.count)}`);
      out.push(`${this.name}_sum${formatLabels(labels)} ${formatNumber(child.sum)}`);
      out.push(`${this.name}_count${formatLabels(labels)} ${formatNumber(child.count)}`);
    }
  }
}

export class Registry {
  private readonly metrics = new Map<string, Metric>();

  private add<M extends Metric>(m: M): M {
    const existing = this.metrics.get(m.name);
    if (existing !== undefined) {
      if (existing.type !== m.type) throw new TypeError(`metric ${m.name} registered twice with different types`);
      return existing as M;
    }
    this.metrics.set(m.name, m);
    return m;
  }

  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }
  gauge(name: string, help: string): Gauge {
    return this.add(new Gauge(name, help));
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }

  /** The whole exposition, as /metrics serves it. */
  render(): string {
    const out: string[] = [];
    for (const m of this.metrics.values()) {
      out.push(`# HELP ${m.name} ${m.help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n")}`);
      out.push(`# TYPE ${m.name} ${m.type}`);
      m.render(out);
    }
    return `${out.join("\n")}\n`;
  }
}
