import Redis from 'ioredis';
import { libConsume, rawConsume } from './consume';
import { loadLib, mb, now } from './util';

/**
 * Child process of phase 4: drains a prefilled backlog (raw loop or library consumer) while
 * sampling RSS every 100 ms, and reports to the parent over IPC. Config in env BENCH_DRAIN (JSON).
 */

export interface DrainConfig {
  mode: 'raw' | 'lib';
  url: string;
  namespace: string;
  key: string;
  group: string;
  n: number;
  concurrency: number;
  validate: boolean;
}

export interface DrainResult {
  mode: 'raw' | 'lib';
  events: number;
  ms: number;
  perSec: number;
  /** RSS in MB: after loading code, before consuming; peak (100 ms samples); at 10/50/90 % drained. */
  rssBaseMB: number;
  rssPeakMB: number;
  rssAt10MB: number;
  rssAt50MB: number;
  rssAt90MB: number;
  heapUsedPeakMB: number;
  /** Peak RSS (100 ms samples) while 10-50 % and while 50-100 % of the backlog was drained. */
  rssPeakFirstHalfMB: number;
  rssPeakSecondHalfMB: number;
  /** [ms since start, RSS MB, events handled] every 100 ms. */
  timeline: Array<[number, number, number]>;
  error?: string;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_DRAIN ?? '{}') as DrainConfig;
  const lib = config.mode === 'lib' ? loadLib() : undefined;
  if (lib instanceof Error) throw lib;

  const rssBase = process.memoryUsage.rss();
  let peak = rssBase;
  let heapPeak = process.memoryUsage().heapUsed;
  const t0 = now();
  const timeline: Array<[number, number, number]> = [];
  let handled = 0;
  const sampler = setInterval(() => {
    const { rss, heapUsed } = process.memoryUsage();
    if (rss > peak) peak = rss;
    if (heapUsed > heapPeak) heapPeak = heapUsed;
    timeline.push([Math.round(now() - t0), mb(rss), handled]);
  }, 100);

  const marks = [0.1, 0.5, 0.9].map((f) => Math.max(1, Math.floor(config.n * f)));
  const atMark: number[] = [];
  const onCount = (count: number): void => {
    handled = count;
    if (count === marks[atMark.length]) {
      const rss = process.memoryUsage.rss();
      if (rss > peak) peak = rss;
      atMark.push(rss);
    }
  };

  let counted = 0;
  const admin = new Redis(config.url);
  try {
    const run = lib
      ? await libConsume(lib, admin, { ...config, onEvent: onCount })
      : await rawConsume(config.url, config.key, config.group, config.n, () => onCount(++counted));
    clearInterval(sampler);
    const peakBetween = (from: number, to: number): number => {
      const inRange = timeline.filter(([, , c]) => c >= from * config.n && c < to * config.n).map(([, rss]) => rss);
      return inRange.length ? Math.max(...inRange) : NaN;
    };
    const result: DrainResult = {
      mode: config.mode,
      events: run.events,
      ms: run.ms,
      perSec: run.perSec,
      rssBaseMB: mb(rssBase),
      rssPeakMB: mb(peak),
      rssAt10MB: mb(atMark[0] ?? NaN),
      rssAt50MB: mb(atMark[1] ?? NaN),
      rssAt90MB: mb(atMark[2] ?? NaN),
      heapUsedPeakMB: mb(heapPeak),
      rssPeakFirstHalfMB: peakBetween(0.1, 0.5),
      rssPeakSecondHalfMB: peakBetween(0.5, 1.01),
      timeline,
    };
    await new Promise<void>((resolve) => process.send!(result, () => resolve()));
  } finally {
    clearInterval(sampler);
    admin.disconnect();
  }
}

// NOTE: a child must never outlive its parent (SIGINT, crash of the bench).
process.on('disconnect', () => process.exit(1));

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.send?.({ error: String(error instanceof Error ? error.stack : error) }, () => process.exit(1));
  },
);
