import type { MetricsRegistry } from './metrics';
import type { StreamStats } from './stream-stats';

/** Reads the stats of some streams at scrape time; resolves [] rather than fail. */
export type StreamSampler = () => Promise<StreamStats[]>;

/** One series of a gauge at one scrape. */
interface GaugeSample {
  labels: Record<string, string>;
  value: number;
}

/**
 * A Prometheus gauge whose series are read at scrape time: the registry calls `get()` (the
 * metric interface of prom-client's Registry), which reports only what this scrape read.
 */
class ScrapedGauge {
  readonly type = 'gauge';
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => Promise<GaugeSample[]>,
  ) {}

  async get(): Promise<{ name: string; help: string; type: 'gauge'; aggregator: 'sum'; values: GaugeSample[] }> {
    // NOTE: one series per label set, the last reading winning (two buses of a registry may both read a stream).
    const series = new Map<string, GaugeSample>();
    for (const sample of await this.read()) series.set(Object.values(sample.labels).join('\0'), sample);
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: [...series.values()],
    };
  }

  reset(): void {}
}

/**
 * The Redis-side gauges of one registry and prefix, filled at scrape time from the samplers of
 * every bus that reports into it. A sample is taken once per scrape and shared by the gauges.
 * With partitioned streams the series are per stream, not per partition: the sample sums the
 * partitions (readStreamStats), and a group's lag is absent when any partition's is unknown.
 */
export class StreamGauges {
  readonly samplers = new Set<StreamSampler>();
  private scrape?: Promise<StreamStats[]>;

  constructor(registry: MetricsRegistry, prefix: string) {
    this.gauge(registry, `${prefix}stream_length`, 'Entries in the stream (XLEN).', (s) => [
      { labels: { stream: s.stream }, value: s.length },
    ]);
    this.gauge(registry, `${prefix}dead_letters`, "Entries in the stream's dead-letter stream (XLEN).", (s) => [
      { labels: { stream: s.stream }, value: s.deadLetters },
    ]);
    this.gauge(
      registry,
      `${prefix}group_pending`,
      'Entries delivered to the group and not yet acknowledged (XINFO GROUPS pending).',
      (s) => s.groups.map((g) => ({ labels: { stream: s.stream, group: g.group }, value: g.pending })),
    );
    this.gauge(
      registry,
      `${prefix}group_lag`,
      'Entries not yet delivered to the group (XINFO GROUPS lag; absent when Redis cannot tell).',
      (s) =>
        s.groups.flatMap((g) =>
          g.lag === undefined ? [] : [{ labels: { stream: s.stream, group: g.group }, value: g.lag }],
        ),
    );
  }

  // NOTE: a series exists only while this scrape's sample has it: a stream or group gone from
  // Redis (or Redis gone) leaves no stale series.
  private gauge(
    registry: MetricsRegistry,
    name: string,
    help: string,
    series: (stats: StreamStats) => GaugeSample[],
  ): void {
    registry.registerMetric(new ScrapedGauge(name, help, async () => (await this.sample()).flatMap(series)));
  }

  // NOTE: the registry starts every metric's get() in the same tick, so the first one starts
  // the read and the other gauges await it: one Redis round trip per scrape.
  private sample(): Promise<StreamStats[]> {
    this.scrape ??= Promise.all([...this.samplers].map((sampler) => sampler()))
      .then((all) => all.flat())
      .finally(() => (this.scrape = undefined));
    return this.scrape;
  }
}

const byRegistry = new WeakMap<MetricsRegistry, Map<string, StreamGauges>>();

/** The stream gauges of a registry and prefix, created on first use: buses sharing a registry share them. */
export function streamGauges(registry: MetricsRegistry, prefix: string): StreamGauges {
  const byPrefix = byRegistry.get(registry) ?? new Map<string, StreamGauges>();
  byRegistry.set(registry, byPrefix);
  let gauges = byPrefix.get(prefix);
  if (!gauges) {
    gauges = new StreamGauges(registry, prefix);
    byPrefix.set(prefix, gauges);
  }
  return gauges;
}
