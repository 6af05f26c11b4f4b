import { Gauge, Registry } from 'prom-client';
import type { StreamStats } from './stream-stats';

/** Reads the stats of some streams at scrape time; resolves [] rather than fail. */
export type StreamSampler = () => Promise<StreamStats[]>;

/**
 * The Redis-side gauges of one registry and prefix, filled at scrape time from the samplers of
 * every bus that reports into it. A sample is taken once per scrape and shared by the gauges.
 * With partitioned streams the series are per stream, not per partition: the sample sums the
 * partitions (readStreamStats), and a group's lag is absent when any partition's is unknown.
 */
export class StreamGauges {
  readonly samplers = new Set<StreamSampler>();
  private scrape?: Promise<StreamStats[]>;

  constructor(registry: Registry, prefix: string) {
    this.gauge(registry, `${prefix}stream_length`, 'Entries in the stream (XLEN).', ['stream'], (gauge, s) => gauge.set({ stream: s.stream }, s.length));
    this.gauge(registry, `${prefix}dead_letters`, "Entries in the stream's dead-letter stream (XLEN).", ['stream'], (gauge, s) => gauge.set({ stream: s.stream }, s.deadLetters));
    this.gauge(registry, `${prefix}group_pending`, 'Entries delivered to the group and not yet acknowledged (XINFO GROUPS pending).', ['stream', 'group'], (gauge, s) => {
      for (const g of s.groups) gauge.set({ stream: s.stream, group: g.group }, g.pending);
    });
    this.gauge(registry, `${prefix}group_lag`, 'Entries not yet delivered to the group (XINFO GROUPS lag; absent when Redis cannot tell).', ['stream', 'group'], (gauge, s) => {
      for (const g of s.groups) if (g.lag !== undefined) gauge.set({ stream: s.stream, group: g.group }, g.lag);
    });
  }

  private gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: L[], fill: (gauge: Gauge<L>, stats: StreamStats) => void): void {
    const sample = (): Promise<StreamStats[]> => this.sample();
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const stats = await sample();
        // NOTE: reset first: a stream or group gone from Redis (or Redis gone) leaves no stale series.
        this.reset();
        for (const s of stats) fill(this, s);
      },
    });
  }

  // NOTE: registry.metrics() starts every collect() in the same tick, so the first one starts
  // the read and the other gauges await it: one Redis round trip per scrape.
  private sample(): Promise<StreamStats[]> {
    this.scrape ??= Promise.all([...this.samplers].map((sampler) => sampler()))
      .then((all) => all.flat())
      .finally(() => (this.scrape = undefined));
    return this.scrape;
  }
}

const byRegistry = new WeakMap<Registry, Map<string, StreamGauges>>();

/** The stream gauges of a registry and prefix, created on first use: buses sharing a registry share them. */
export function streamGauges(registry: Registry, prefix: string): StreamGauges {
  const byPrefix = byRegistry.get(registry) ?? new Map<string, StreamGauges>();
  byRegistry.set(registry, byPrefix);
  let gauges = byPrefix.get(prefix);
  if (!gauges) {
    gauges = new StreamGauges(registry, prefix);
    byPrefix.set(prefix, gauges);
  }
  return gauges;
}
