import type * as PromClient from 'prom-client';
import { optionalPeer, requiredPeer } from '../utils/optional-peer';

/** The instruments of one (stream, type, group), resolved once and cached: no label lookup per event. */
export interface RouteInstruments {
  delivered(): void;
  acked(): void;
  failed(): void;
  retried(): void;
  duplicate(): void;
  deadLettered(reason: string): void;
  /** A successful run of the group's handlers: handler time, and publish-to-handled latency from the envelope's time. */
  handled(handlerSeconds: number, publishedAtMs: number): void;
}

/**
 * The part of a prom-client `Registry` the bus uses: pass a `new Registry()` of prom-client (or
 * its global `register`) as `metrics.registry`; `core.metrics.registry.metrics()` is the scrape.
 */
export interface MetricsRegistry {
  /** The Content-Type of the scrape (the Prometheus text format). */
  readonly contentType: string;
  /** Every metric of the registry in the Prometheus text format. */
  metrics(): Promise<string>;
  getSingleMetric(name: string): unknown;
  registerMetric(metric: object): void;
}

export interface EventBusMetricsOptions {
  /** Where the instruments register: a prom-client `Registry`. @default a new Registry of this bus */
  registry?: MetricsRegistry;
  /** Metric name prefix. @default 'eventbus_' */
  prefix?: string;
  /** Also register prom-client's process metrics (CPU, memory, event loop lag, GC) on the registry, once per registry. @default true */
  processMetrics?: boolean;
}

type PromClientModule = typeof PromClient;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadPromClient = (): unknown => require('prom-client');

/** prom-client, or an error saying it must be installed for metrics. */
function promClient(): PromClientModule {
  return requiredPeer<PromClientModule>(
    'prom-client',
    loadPromClient,
    'EventBusModule metrics need it: npm install prom-client, or forRoot({ metrics: false })',
  );
}

/** Handler run time: a Redis write or two at the fast end, a slow downstream call at the other. */
const HANDLER_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Publish to handled: queueing, retries and their backoff included, so it reaches further. */
const PUBLISH_TO_HANDLED_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
];

type Labels = Record<string, string>;

/** What the registry reads from a metric at scrape time (prom-client's `metric.get()`). */
interface Sampled {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: Array<{ metricName?: string; labels: Record<string, string | number>; value: number }>;
}

/** One series of a counter: a plain number the hot path increments. */
interface CounterSeries {
  labels: Labels;
  value: number;
}

/** One series of a histogram: per-bucket counts (not cumulative), sum and count. */
interface HistogramSeries {
  labels: Labels;
  counts: Float64Array;
  sum: number;
  count: number;
}

/** The series of `labels` in `series`, made by `create` the first time. */
function seriesAt<S>(series: Map<string, S>, labels: Labels, create: () => S): S {
  const key = Object.values(labels).join('\0');
  let found = series.get(key);
  if (!found) series.set(key, (found = create()));
  return found;
}

/**
 * A Prometheus counter whose series are plain numbers, turned into samples only when the registry
 * is scraped. prom-client's own Counter builds a label key on every `inc` (~0.4 us and garbage
 * per event; ~0.75 us per histogram `observe`), which showed up in the consume benchmark.
 */
class ScrapedCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, CounterSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  /** The series of these label values, created at 0. */
  at(labels: Labels): CounterSeries {
    return seriesAt(this.series, labels, () => ({ labels, value: 0 }));
  }

  get(): Promise<Sampled> {
    const values = [...this.series.values()].map((s) => ({ labels: s.labels, value: s.value }));
    return Promise.resolve({ name: this.name, help: this.help, type: 'counter', aggregator: 'sum', values });
  }

  reset(): void {
    for (const series of this.series.values()) series.value = 0;
  }
}

/** A Prometheus histogram kept the same way: bucket counts in a typed array per series. */
class ScrapedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[],
  ) {}

  at(labels: Labels): HistogramSeries {
    return seriesAt(this.series, labels, () => ({
      labels,
      counts: new Float64Array(this.buckets.length + 1),
      sum: 0,
      count: 0,
    }));
  }

  observe(series: HistogramSeries, value: number): void {
    const buckets = this.buckets;
    let i = 0;
    while (i < buckets.length && value > buckets[i]) i++;
    series.counts[i]++;
    series.sum += value;
    series.count++;
  }

  get(): Promise<Sampled> {
    const values: Sampled['values'] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i];
        values.push({ metricName: `${this.name}_bucket`, labels: { le, ...s.labels }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...s.labels }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values });
  }

  reset(): void {
    for (const series of this.series.values()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}

/**
 * The bus's Prometheus instruments, on one Registry per EventBusCore by default, so several
 * apps in one process never collide. Scrape-time gauges read from Redis live in
 * EventBusMetricsCollector.
 */
export class EventBusMetrics {
  readonly registry: MetricsRegistry;
  readonly prefix: string;
  private readonly publishedTotal: ScrapedCounter;
  private readonly publishFailedTotal: ScrapedCounter;
  private readonly deliveredTotal: ScrapedCounter;
  private readonly ackedTotal: ScrapedCounter;
  private readonly failedTotal: ScrapedCounter;
  private readonly retriedTotal: ScrapedCounter;
  private readonly duplicatesTotal: ScrapedCounter;
  private readonly deadLetteredTotal: ScrapedCounter;
  private readonly handlerDuration: ScrapedHistogram;
  private readonly publishToHandled: ScrapedHistogram;
  private readonly routes = new Map<string, RouteInstruments>();
  private readonly publishes = new Map<string, CounterSeries>();
  private readonly publishFailures = new Map<string, CounterSeries>();

  constructor(options: EventBusMetricsOptions = {}) {
    const prom = promClient();
    this.registry = options.registry ?? new prom.Registry();
    this.prefix = options.prefix ?? 'eventbus_';
    this.publishedTotal = this.counter('events_published_total', 'Events appended to their stream.');
    this.publishFailedTotal = this.counter(
      'events_publish_failed_total',
      'Events whose publish failed (nothing or not all of it confirmed).',
    );
    this.deliveredTotal = this.counter(
      'events_delivered_total',
      'Entries a group took in (read, claimed, redriven or replayed).',
    );
    this.ackedTotal = this.counter('events_acked_total', 'Entries a group settled by acknowledging them.');
    this.failedTotal = this.counter('events_failed_total', 'Handler runs that threw.');
    this.retriedTotal = this.counter('events_retried_total', 'Entries taken again after a failure and its backoff.');
    this.duplicatesTotal = this.counter(
      'events_duplicates_total',
      'Entries skipped because the group had already handled the event.',
    );
    this.deadLetteredTotal = this.counter(
      'events_dead_lettered_total',
      'Entries moved to the dead-letter stream, by reason.',
    );
    this.handlerDuration = this.histogram(
      'handler_duration_seconds',
      "Time the group's handlers took on one successful delivery.",
      HANDLER_DURATION_BUCKETS,
    );
    this.publishToHandled = this.histogram(
      'publish_to_handled_seconds',
      "From the event's time to the end of its successful handling.",
      PUBLISH_TO_HANDLED_BUCKETS,
    );
    if ((options.processMetrics ?? true) && !this.registry.getSingleMetric('process_cpu_user_seconds_total')) {
      prom.collectDefaultMetrics({ register: this.registry as PromClient.Registry });
    }
  }

  forRoute(stream: string, type: string, group: string): RouteInstruments {
    const key = `${stream}\0${type}\0${group}`;
    let route = this.routes.get(key);
    if (!route) {
      route = this.createRoute(stream, type, group);
      this.routes.set(key, route);
    }
    return route;
  }

  published(stream: string, type: string, count = 1): void {
    seriesOf(this.publishes, this.publishedTotal, stream, type).value += count;
  }

  publishFailed(stream: string, type: string, count = 1): void {
    seriesOf(this.publishFailures, this.publishFailedTotal, stream, type).value += count;
  }

  private createRoute(stream: string, type: string, group: string): RouteInstruments {
    const labels = { stream, type, group };
    // NOTE: every series exists (at 0) from the moment the route is resolved: one that first
    // appears at 1 hides that increment from rate().
    const delivered = this.deliveredTotal.at(labels);
    const acked = this.ackedTotal.at(labels);
    const failed = this.failedTotal.at(labels);
    const retried = this.retriedTotal.at(labels);
    const duplicates = this.duplicatesTotal.at(labels);
    const handlerDuration = this.handlerDuration.at(labels);
    const publishToHandled = this.publishToHandled.at(labels);
    const deadLettered = new Map<string, CounterSeries>();
    return {
      delivered: () => void delivered.value++,
      acked: () => void acked.value++,
      failed: () => void failed.value++,
      retried: () => void retried.value++,
      duplicate: () => void duplicates.value++,
      deadLettered: (reason) =>
        void seriesOf(deadLettered, this.deadLetteredTotal, stream, type, group, reason).value++,
      handled: (handlerSeconds, publishedAtMs) => {
        this.handlerDuration.observe(handlerDuration, handlerSeconds);
        // NOTE: clamped at 0: a publisher whose clock runs ahead would otherwise record negative latency.
        if (!Number.isNaN(publishedAtMs))
          this.publishToHandled.observe(publishToHandled, Math.max(0, (Date.now() - publishedAtMs) / 1000));
      },
    };
  }

  // NOTE: get-or-create: buses that share one registry share its instruments instead of failing
  // with "already registered".
  private counter(name: string, help: string): ScrapedCounter {
    const full = this.prefix + name;
    const existing = this.registry.getSingleMetric(full);
    if (existing instanceof ScrapedCounter) return existing;
    const counter = new ScrapedCounter(full, help);
    this.registry.registerMetric(counter);
    return counter;
  }

  private histogram(name: string, help: string, buckets: number[]): ScrapedHistogram {
    const full = this.prefix + name;
    const existing = this.registry.getSingleMetric(full);
    if (existing instanceof ScrapedHistogram) return existing;
    const histogram = new ScrapedHistogram(full, help, buckets);
    this.registry.registerMetric(histogram);
    return histogram;
  }
}

/** The series of `counter` for these label values (stream, type[, group, reason]), cached by the caller. */
function seriesOf(cache: Map<string, CounterSeries>, counter: ScrapedCounter, ...values: string[]): CounterSeries {
  const key = values.join('\0');
  let found = cache.get(key);
  if (!found) {
    const [stream, type, group, reason] = values;
    const labels: Labels =
      group === undefined
        ? { stream, type }
        : reason === undefined
          ? { stream, type, group }
          : { stream, type, group, reason };
    found = counter.at(labels);
    cache.set(key, found);
  }
  return found;
}

/**
 * The bus's instruments for the `metrics` option: none with `false`; by default (undefined) only
 * when prom-client is installed; with options, prom-client must be installed.
 */
export function createEventBusMetrics(
  options: EventBusMetricsOptions | false | undefined,
): EventBusMetrics | undefined {
  if (options === false) return undefined;
  if (options === undefined && optionalPeer<PromClientModule>('prom-client', loadPromClient) === undefined)
    return undefined;
  return new EventBusMetrics(options);
}
