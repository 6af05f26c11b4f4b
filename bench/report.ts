import type { BacklogPhase } from './backlog';
import { pairedRatios, perMasterCpu, spread } from './cluster';
import type { ClusterPhase, ClusterRun, TopologyRuns } from './cluster';
import { summarizeCommit } from './commit';
import type { CommitPhase } from './commit';
import type { ConsumePhase } from './consume';
import { quantile } from './guard';
import type { GuardPair, GuardPhase } from './guard';
import { MEMORY_BOOKKEEPING_TARGET } from './memory';
import type { MemoryPhase } from './memory';
import type { LatencyPhase, LatencyRun } from './latency';
import type { PeerLatency, PeerRun, PeersPhase } from './peers';
import type { PublishPhase } from './publish';
import { fmt, table } from './util';

/** Turns the phase results into the printed table (and the verdicts stored in the JSON). */

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  redis: string;
  platform: string;
  totalMemGB: number;
}

export interface Results {
  machine: Machine;
  config: Record<string, unknown>;
  publish?: PublishPhase;
  consume?: ConsumePhase;
  guard?: GuardPhase;
  commit?: CommitPhase;
  /** One per rate of BENCH_LATENCY_RATE. */
  latency?: LatencyPhase[];
  backlog?: BacklogPhase;
  eventStore?: import('./event-store').EventStoreBench;
  cluster?: ClusterPhase;
  peers?: PeersPhase;
  memory?: MemoryPhase;
  verdicts: Verdict[];
  totalSeconds?: number;
}

export interface Verdict {
  measure: string;
  raw: string;
  library: string;
  ratio: string;
  target: string;
  /** NOISY: the machine's speed swung too much between runs to judge (see the raw loop's spread). */
  result: 'PASS' | 'MISS' | 'n/a' | 'NOISY' | 'quiet';
}

/** RSS growth (peak while 50-100 % drained over peak while 10-50 % drained) that still counts as flat. */
export const FLAT_SLACK_MB = 16;
export const FLAT_SLACK_RATIO = 0.1;
/** The library's end-to-end p99 at most this many times raw ioredis's, in the same phase. */
export const LATENCY_P99_TARGET_X_RAW = 2;
/** The dedupe guard's cost on consume throughput (median of the on/off pairs) that meets the target. */
export const GUARD_COST_TARGET = 0.05;
/** Draining a backlog: the library's rate over raw's, and its RSS peak over raw's. */
export const DRAIN_RATE_TARGET = 0.8;
export const DRAIN_RSS_TARGET_X_RAW = 1.5;

function ratioRow(
  measure: string,
  raw: number,
  lib: number | undefined,
  target: number | undefined,
  note?: string,
): Verdict {
  const wanted = target === undefined ? '-' : `>= ${target.toFixed(2)}`;
  if (lib === undefined)
    return { measure, raw: fmt(raw), library: note ? `(${note})` : '-', ratio: '-', target: wanted, result: 'n/a' };
  const ratio = lib / raw;
  const result = target === undefined ? 'n/a' : ratio >= target ? 'PASS' : 'MISS';
  return { measure, raw: fmt(raw), library: fmt(lib), ratio: ratio.toFixed(3), target: wanted, result };
}

function latencyRows(label: string, raw: LatencyRun, lib: LatencyRun | undefined): Verdict[] {
  const ms = (n: number | undefined): string => fmt(n, 2);
  const lost = (run: LatencyRun | undefined): string => (run && run.lost ? ` (${run.lost} lost)` : '');
  return [
    {
      measure: `latency ${label} p50 ms`,
      raw: ms(raw.stats.p50),
      library: ms(lib?.stats.p50),
      ratio: '-',
      target: '-',
      result: 'n/a',
    },
    {
      measure: `latency ${label} p99 ms`,
      raw: ms(raw.stats.p99) + lost(raw),
      library: ms(lib?.stats.p99) + lost(lib),
      ratio: lib ? (lib.stats.p99 / raw.stats.p99).toFixed(2) : '-',
      target: `<= ${LATENCY_P99_TARGET_X_RAW}x raw`,
      result: lib
        ? lib.stats.p99 <= LATENCY_P99_TARGET_X_RAW * raw.stats.p99 && lib.lost === 0
          ? 'PASS'
          : 'MISS'
        : 'n/a',
    },
    {
      measure: `latency ${label} max ms`,
      raw: ms(raw.stats.max),
      library: ms(lib?.stats.max),
      ratio: '-',
      target: '-',
      result: 'n/a',
    },
    {
      measure: `  event-loop delay p99 / max ms`,
      raw: `${ms(raw.loopDelay.p99)} / ${ms(raw.loopDelay.max)}`,
      library: lib ? `${ms(lib.loopDelay.p99)} / ${ms(lib.loopDelay.max)}` : '-',
      ratio: '-',
      target: '-',
      result: 'n/a',
    },
    {
      measure: `  GC pauses: count, max ms`,
      raw: `${raw.gc.count}, ${ms(raw.gc.maxMs)}`,
      library: lib ? `${lib.gc.count}, ${ms(lib.gc.maxMs)}` : '-',
      ratio: '-',
      target: '-',
      result: 'n/a',
    },
  ];
}

/**
 * A throughput measured in interleaved rounds (raw then library in each): the medians of the rates,
 * and the verdict on the median of the per-round ratios (a round's noise hits both sides of it),
 * with their spread on a second row.
 */
function pairedRatioRows(
  measure: string,
  side: { raw: { perSec: number; runs?: number[] }; lib?: { perSec: number; runs?: number[] }; error?: string },
  target: number,
): Verdict[] {
  const raw = side.raw.runs ?? [side.raw.perSec];
  const lib = side.lib ? (side.lib.runs ?? [side.lib.perSec]) : [];
  const ratios = lib.flatMap((x, i) => (raw[i] ? [x / raw[i]] : []));
  if (side.error || ratios.length === 0)
    return [ratioRow(measure, median(raw), undefined, target, side.error && 'failed')];
  const row = ratioRow(measure, median(raw), median(lib), target);
  const r = spread(ratios);
  row.ratio = r.median.toFixed(3);
  row.result = r.median >= target ? 'PASS' : 'MISS';
  return [
    row,
    {
      measure: '  per-round lib/raw: median (min..max)',
      raw: '-',
      library: `${r.median.toFixed(3)} (${r.min.toFixed(3)}..${r.max.toFixed(3)})`,
      ratio: '-',
      target: '-',
      result: 'n/a',
    },
  ];
}

export function verdicts(r: Results): Verdict[] {
  const rows: Verdict[] = [];
  if (r.publish) {
    const p = r.publish;
    for (const [measure, side, target] of [
      ['publish pipelined, 1000/batch', p.pipelined, 0.9],
      ['publish concurrent, 1000 in flight', p.concurrent, 0.8],
    ] as const)
      rows.push(...pairedRatioRows(`${measure} (ev/s, median of ${p.repeat} rounds)`, side, target));
  }
  if (r.consume) {
    const c = r.consume;
    rows.push(
      ratioRow(
        'consume+ack, validate=false (ev/s)',
        c.raw.perSec,
        c.libNoValidate?.perSec,
        undefined,
        c.error && 'failed',
      ),
    );
    rows.push(
      ratioRow('consume+ack, library defaults (ev/s)', c.raw.perSec, c.libValidate?.perSec, 0.85, c.error && 'failed'),
    );
    rows.push(
      ratioRow(
        'consume+ack, validate=false, dedupe off (ev/s)',
        c.raw.perSec,
        c.libNoDedupe?.perSec,
        undefined,
        c.error && 'failed',
      ),
    );
    // NOTE: the raw loop does the same work every repetition, so its spread measures the machine.
    const rawRuns = c.raw.runs ?? [];
    const spread = rawRuns.length > 1 ? Math.max(...rawRuns) / Math.min(...rawRuns) - 1 : 0;
    rows.push({
      measure: '  machine noise: raw loop spread (max/min - 1)',
      raw: `${fmt(spread * 100, 1)} %`,
      library: '-',
      ratio: '-',
      target: '-',
      result: spread > 0.1 ? 'NOISY' : 'quiet',
    });
    if (c.cpu) {
      // NOTE: medians of every run: CPU per event moves far less than throughput on a shared machine.
      const cpu = (s: { nodeUs: number[]; redisUs: number[] }): string =>
        `${fmt(median(s.nodeUs), 1)} + ${fmt(median(s.redisUs), 1)}`;
      rows.push({
        measure: 'consume CPU us/event, node + redis (median)',
        raw: cpu(c.cpu.raw),
        library: cpu(c.cpu.nv),
        ratio: '-',
        target: '-',
        result: 'n/a',
      });
      rows.push({
        measure: '  validate=true / dedupe off',
        raw: '-',
        library: `${cpu(c.cpu.v)} / ${cpu(c.cpu.nd)}`,
        ratio: '-',
        target: '-',
        result: 'n/a',
      });
    }
  }
  if (r.guard) {
    const g = r.guard;
    const gaps = g.pairs.map((p) => p.gap);
    const pct = (x: number): string => `${fmt(x * 100, 1)} %`;
    if (gaps.length > 0) {
      const mid = quantile(gaps, 0.5);
      const measure = `dedupe guard cost, median of ${gaps.length} pairs`;
      rows.push({
        measure,
        raw: '-',
        library: pct(mid),
        ratio: '-',
        target: `<= ${pct(GUARD_COST_TARGET)}`,
        result: mid <= GUARD_COST_TARGET ? 'PASS' : 'MISS',
      });
      rows.push({
        measure: '  interquartile range of the pairs',
        raw: '-',
        library: `${pct(quantile(gaps, 0.25))} .. ${pct(quantile(gaps, 0.75))}`,
        ratio: '-',
        target: '-',
        result: 'n/a',
      });
      rows.push({
        measure: `  pairs at or under ${pct(GUARD_COST_TARGET)}`,
        raw: '-',
        library: `${gaps.filter((x) => x <= GUARD_COST_TARGET).length} of ${gaps.length}`,
        ratio: '-',
        target: '-',
        result: 'n/a',
      });
      const ev = (side: 'on' | 'off'): string =>
        fmt(
          quantile(
            g.pairs.map((p) => p[side]),
            0.5,
          ),
        );
      rows.push({
        measure: '  guard on / off, median ev/s',
        raw: '-',
        library: `${ev('on')} / ${ev('off')}`,
        ratio: '-',
        target: '-',
        result: 'n/a',
      });
      const perEvent = (of: (p: GuardPair) => { on: number; off: number } | undefined): string => {
        const measured = g.pairs.map(of).filter((x): x is { on: number; off: number } => x !== undefined);
        return measured.length === 0
          ? '-'
          : `${fmt(
              quantile(
                measured.map((x) => x.on),
                0.5,
              ),
              1,
            )} / ${fmt(
              quantile(
                measured.map((x) => x.off),
                0.5,
              ),
              1,
            )} us`;
      };
      rows.push({
        measure: '  redis-server CPU per event, on / off',
        raw: '-',
        library: perEvent((p) => p.redisUs),
        ratio: '-',
        target: '-',
        result: 'n/a',
      });
      rows.push({
        measure: '  consumer GC pauses per event, on / off',
        raw: '-',
        library: perEvent((p) => p.gcUs),
        ratio: '-',
        target: '-',
        result: 'n/a',
      });
    } else {
      rows.push({
        measure: 'dedupe guard cost',
        raw: '-',
        library: g.error ? '(failed)' : '-',
        ratio: '-',
        target: `<= ${GUARD_COST_TARGET * 100} %`,
        result: 'n/a',
      });
    }
  }
  if (r.commit) {
    const c = r.commit;
    const s = summarizeCommit(c);
    if (s) {
      const range = (v: { min: number; max: number }): string => `${fmt(v.min)}..${fmt(v.max)}`;
      const ratios = (x: { ofMedians: number; perRepetition: number[] }): string =>
        `${x.ofMedians.toFixed(2)} (runs ${fmt(Math.min(...x.perRepetition), 2)}..${fmt(Math.max(...x.perRepetition), 2)})`;
      const runs = `median of ${c.runs.commit.length}`;
      rows.push({
        measure: `consume+publish+HINCRBY, plain publish() (ev/s, ${runs})`,
        raw: fmt(s.perSec.raw.median),
        library: fmt(s.perSec.plain.median),
        ratio: s.ratio.plainRaw.ofMedians.toFixed(3),
        target: '-',
        result: 'n/a',
      });
      rows.push({
        measure: `consume+publish+HINCRBY, ctx.commit() (ev/s, ${runs})`,
        raw: fmt(s.perSec.raw.median),
        library: fmt(s.perSec.commit.median),
        ratio: s.ratio.commitRaw.ofMedians.toFixed(3),
        target: '-',
        result: 'n/a',
      });
      rows.push({
        measure: '  spread of the runs, min..max ev/s: raw | plain / commit',
        raw: range(s.perSec.raw),
        library: `${range(s.perSec.plain)} / ${range(s.perSec.commit)}`,
        ratio: '-',
        target: '-',
        result: 'n/a',
      });
      rows.push({
        measure: '  commit / plain, of medians (per repetition min..max)',
        raw: '-',
        library: ratios(s.ratio.commitPlain),
        ratio: '-',
        target: '-',
        result: 'n/a',
      });
      rows.push({
        measure: '  commit / raw, of medians (per repetition min..max)',
        raw: '-',
        library: ratios(s.ratio.commitRaw),
        ratio: '-',
        target: '-',
        result: 'n/a',
      });
      const cpu = (v: 'plain' | 'commit' | 'raw'): string => `${fmt(s.nodeUs[v], 1)} + ${fmt(s.redisUs[v], 1)}`;
      rows.push({
        measure: '  CPU us/event, node + redis (median): raw | plain / commit',
        raw: cpu('raw'),
        library: `${cpu('plain')} / ${cpu('commit')}`,
        ratio: '-',
        target: '-',
        result: 'n/a',
      });
      const writes = (v: 'plain' | 'commit' | 'raw'): string => fmt(s.writesPerEvent[v], 2);
      rows.push({
        measure: '  node write(2) calls per event: raw | plain / commit',
        raw: writes('raw'),
        library: `${writes('plain')} / ${writes('commit')}`,
        ratio: '-',
        target: '-',
        result: 'n/a',
      });
    } else {
      rows.push({
        measure: 'consume+publish+HINCRBY, ctx.commit()',
        raw: '-',
        library: c.error ? '(failed)' : '-',
        ratio: '-',
        target: '-',
        result: 'n/a',
      });
    }
  }
  for (const l of r.latency ?? []) {
    const at = `@${fmt(l.ratePerSec)}/s`;
    rows.push(...latencyRows(`${at} validate=false`, l.raw, l.libNoValidate));
    rows.push(...latencyRows(`${at} validate=true`, l.raw, l.libValidate));
  }
  if (r.backlog) {
    const b = r.backlog;
    const raw = b.raw;
    const lib = b.lib;
    const mbs = (n: number | undefined): string => fmt(n, 1);
    if (raw) {
      rows.push({
        measure: `drain ${fmt(b.backlog)} backlog (ev/s)`,
        raw: fmt(raw.perSec),
        library: fmt(lib?.perSec),
        ratio: lib ? (lib.perSec / raw.perSec).toFixed(3) : '-',
        target: `>= ${DRAIN_RATE_TARGET}`,
        result: lib ? (lib.perSec / raw.perSec >= DRAIN_RATE_TARGET ? 'PASS' : 'MISS') : 'n/a',
      });
      rows.push({
        measure: 'drain RSS before start MB',
        raw: mbs(raw.rssBaseMB),
        library: mbs(lib?.rssBaseMB),
        ratio: '-',
        target: '-',
        result: 'n/a',
      });
      rows.push({
        measure: 'drain RSS at 10% MB',
        raw: mbs(raw.rssAt10MB),
        library: mbs(lib?.rssAt10MB),
        ratio: '-',
        target: '-',
        result: 'n/a',
      });
      rows.push({
        measure: 'drain RSS at 50% MB',
        raw: mbs(raw.rssAt50MB),
        library: mbs(lib?.rssAt50MB),
        ratio: '-',
        target: '-',
        result: 'n/a',
      });
      rows.push({
        measure: 'drain RSS at 90% MB',
        raw: mbs(raw.rssAt90MB),
        library: mbs(lib?.rssAt90MB),
        ratio: '-',
        target: '-',
        result: 'n/a',
      });
      rows.push({
        measure: 'drain RSS peak, 10-50% drained MB',
        raw: mbs(raw.rssPeakFirstHalfMB),
        library: mbs(lib?.rssPeakFirstHalfMB),
        ratio: '-',
        target: '-',
        result: 'n/a',
      });
      let flat: Verdict['result'] = 'n/a';
      if (lib)
        flat =
          lib.rssPeakSecondHalfMB - lib.rssPeakFirstHalfMB <=
          Math.max(FLAT_SLACK_MB, FLAT_SLACK_RATIO * lib.rssPeakFirstHalfMB)
            ? 'PASS'
            : 'MISS';
      rows.push({
        measure: 'drain RSS peak, 50-100% drained MB',
        raw: mbs(raw.rssPeakSecondHalfMB),
        library: mbs(lib?.rssPeakSecondHalfMB),
        ratio: '-',
        target: `flat: <= 10-50% peak + max(${FLAT_SLACK_MB} MB, ${FLAT_SLACK_RATIO * 100}%)`,
        result: flat,
      });
      rows.push({
        measure: 'drain RSS peak MB',
        raw: mbs(raw.rssPeakMB),
        library: mbs(lib?.rssPeakMB),
        ratio: lib ? `${(lib.rssPeakMB / raw.rssPeakMB).toFixed(2)}x` : '-',
        target: `<= ${DRAIN_RSS_TARGET_X_RAW}x raw`,
        result: lib ? (lib.rssPeakMB <= DRAIN_RSS_TARGET_X_RAW * raw.rssPeakMB ? 'PASS' : 'MISS') : 'n/a',
      });
      rows.push({
        measure: 'drain heapUsed peak MB',
        raw: mbs(raw.heapUsedPeakMB),
        library: mbs(lib?.heapUsedPeakMB),
        ratio: '-',
        target: '-',
        result: 'n/a',
      });
    }
  }
  if (r.cluster) rows.push(...clusterRows(r.cluster));
  if (r.memory) rows.push(memoryRow(r.memory));
  return rows;
}

/** Bookkeeping bytes (dedupe markers, flow index, bus keys) over the events' own, after a burst of orders. */
function memoryRow(m: MemoryPhase): Verdict {
  const bytes = (kind: string): number => m.byKind.find((k) => k.kind === kind)?.bytes ?? 0;
  const perEvent = (b: number): string => (m.events > 0 ? `${fmt(b / m.events)} B/event` : '-');
  const events = bytes('events');
  const ok = Number.isFinite(m.bookkeepingRatio) && !m.error;
  return {
    measure: `redis bookkeeping / events bytes (${fmt(m.orders)} orders)`,
    raw: perEvent(events),
    library: ok ? perEvent(m.bookkeepingRatio * events) : '(failed)',
    ratio: ok ? m.bookkeepingRatio.toFixed(3) : '-',
    target: `<= ${MEMORY_BOOKKEEPING_TARGET.toFixed(2)}`,
    result: !ok ? 'n/a' : m.bookkeepingRatio <= MEMORY_BOOKKEEPING_TARGET ? 'PASS' : 'MISS',
  };
}

/** The cluster phase: one Redis vs a 3-master cluster at partitions 16, and P=16 vs P=1 reads. */
function clusterRows(c: ClusterPhase): Verdict[] {
  const rows: Verdict[] = [];
  const row = (measure: string, raw: string, library: string, ratio = '-'): void =>
    void rows.push({ measure, raw, library, ratio, target: '-', result: 'n/a' });
  const perSec = (runs: ClusterRun[]): number[] => runs.map((x) => x.perSec);
  const med = (runs: ClusterRun[]): number => spread(perSec(runs)).median;
  const range = (values: number[], digits = 0): string => {
    const s = spread(values);
    return `${fmt(s.min, digits)}..${fmt(s.max, digits)}`;
  };
  const withRange = (values: number[], digits = 2): string =>
    values.length ? `${fmt(spread(values).median, digits)} (${range(values, digits)})` : '-';
  const S = c.single;
  const C = c.cluster;
  const n = S.publish.length;
  const m = `${c.masters} masters`;
  if (n === 0 || C.publish.length === 0) {
    row(`P=${c.partitions} one Redis vs ${m}`, '-', c.error ? '(failed)' : '-');
    return rows;
  }
  const libRatio = (a: number[], b: number[]): string =>
    a.length && b.length ? (spread(b).median / spread(a).median).toFixed(3) : '-';
  row(
    `P=${c.partitions} publish, 1 Redis (ev/s, median of ${n})`,
    fmt(med(S.rawPublish)),
    fmt(med(S.publish)),
    libRatio(perSec(S.rawPublish), perSec(S.publish)),
  );
  row(
    `P=${c.partitions} publish, ${m} (ev/s, median of ${C.publish.length})`,
    fmt(med(C.rawPublish)),
    fmt(med(C.publish)),
    libRatio(perSec(C.rawPublish), perSec(C.publish)),
  );
  row(
    '  spread min..max ev/s: 1 Redis | cluster',
    `${range(perSec(S.rawPublish))} | ${range(perSec(C.rawPublish))}`,
    `${range(perSec(S.publish))} | ${range(perSec(C.publish))}`,
  );
  row(
    `  publish ${m} / 1 Redis, paired runs: median (min..max)`,
    withRange(pairedRatios(perSec(C.rawPublish), perSec(S.rawPublish))),
    withRange(pairedRatios(perSec(C.publish), perSec(S.publish))),
  );
  if (S.consume.length && C.consume.length) {
    row(
      `P=${c.partitions} consume+ack, 1 Redis (ev/s, median (min..max))`,
      '-',
      `${fmt(med(S.consume))} (${range(perSec(S.consume))})`,
    );
    row(
      `P=${c.partitions} consume+ack, ${m} (ev/s, median (min..max))`,
      '-',
      `${fmt(med(C.consume))} (${range(perSec(C.consume))})`,
    );
    row(
      `  consume ${m} / 1 Redis, paired runs: median (min..max)`,
      '-',
      withRange(pairedRatios(perSec(C.consume), perSec(S.consume))),
    );
    const boot = (runs: ClusterRun[]): string => fmt(spread(runs.map((x) => x.bootMs ?? NaN)).median);
    row(
      '  consume boot until first handler call, ms: 1 Redis / cluster',
      '-',
      `${boot(S.consume)} / ${boot(C.consume)}`,
    );
  }
  const latency = (label: string, t: TopologyRuns): void => {
    if (!t.latency.length) return;
    const p50 = spread(t.latency.map((x) => x.stats.p50));
    const p99 = spread(t.latency.map((x) => x.stats.p99));
    const lost = t.latency.reduce((a, x) => a + x.lost, 0);
    row(
      `latency @${fmt(c.latencyRate)}/s p50 / p99 ms, ${label} (median of ${t.latency.length})`,
      '-',
      `${fmt(p50.median, 2)} / ${fmt(p99.median, 2)}${lost ? ` (${lost} lost)` : ''}`,
    );
    row(
      `  p50 / p99 min..max ms, ${label}`,
      '-',
      `${fmt(p50.min, 2)}..${fmt(p50.max, 2)} / ${fmt(p99.min, 2)}..${fmt(p99.max, 2)}`,
    );
  };
  latency('1 Redis', S);
  latency(m, C);
  const cpuRows = (
    what: string,
    single: ClusterRun[],
    cluster: ClusterRun[],
    rawSingle?: ClusterRun[],
    rawCluster?: ClusterRun[],
  ): void => {
    const one = perMasterCpu(single);
    const many = perMasterCpu(cluster);
    const rawOne = rawSingle && perMasterCpu(rawSingle);
    const rawMany = rawCluster && perMasterCpu(rawCluster);
    if (!one || !many) return;
    const list = (x?: { perMaster: number[] }): string => (x ? x.perMaster.map((v) => fmt(v, 1)).join(' / ') : '-');
    const vs = (x?: { mean: number; max: number; total: number }, base?: { mean: number }): string =>
      x && base
        ? `${(x.mean / base.mean).toFixed(2)} (${(x.max / base.mean).toFixed(2)}, ${(x.total / base.mean).toFixed(2)})`
        : '-';
    row(
      `redis CPU us/event, ${what}: 1 Redis | each master`,
      rawOne ? `${list(rawOne)} | ${list(rawMany)}` : '-',
      `${list(one)} | ${list(many)}`,
    );
    row(`  per master / 1 Redis, ${what}: mean (hottest, sum)`, vs(rawMany, rawOne), vs(many, one));
  };
  cpuRows('publish', S.publish, C.publish, S.rawPublish, C.rawPublish);
  cpuRows('consume+ack', S.consume, C.consume);
  const nodeUs = (runs: ClusterRun[]): string => fmt(spread(runs.map((x) => x.nodeUs)).median, 1);
  row(
    '  node CPU us/event, publish | consume: 1 Redis / cluster',
    `${nodeUs(S.rawPublish)} / ${nodeUs(C.rawPublish)} | -`,
    `${nodeUs(S.publish)} / ${nodeUs(C.publish)} | ${nodeUs(S.consume)} / ${nodeUs(C.consume)}`,
  );

  const b = c.partitionCost;
  if (b.p16.length && b.p1.length) {
    const ratios = pairedRatios(perSec(b.p16), perSec(b.p1));
    row(`consume+ack P=${c.partitions} / P=1, 1 Redis (median of ${ratios.length} pairs)`, '-', withRange(ratios, 3));
    row(
      `  P=1 | P=${c.partitions} ev/s: median (min..max)`,
      '-',
      `${fmt(med(b.p1))} (${range(perSec(b.p1))}) | ${fmt(med(b.p16))} (${range(perSec(b.p16))})`,
    );
    const boot = (runs: ClusterRun[]): string => fmt(spread(runs.map((x) => x.bootMs ?? NaN)).median);
    row(`  boot until first handler call ms, P=1 | P=${c.partitions} (median)`, '-', `${boot(b.p1)} | ${boot(b.p16)}`);
    const cpu = (runs: ClusterRun[]): string =>
      `${fmt(spread(runs.map((x) => x.nodeUs)).median, 1)} + ${fmt(spread(runs.map((x) => x.redisUs[0])).median, 1)}`;
    row(`  CPU us/event node + redis, P=1 | P=${c.partitions} (median)`, '-', `${cpu(b.p1)} | ${cpu(b.p16)}`);
    const cpuRatios = (of: (x: ClusterRun) => number): string => withRange(pairedRatios(b.p16.map(of), b.p1.map(of)));
    row(
      `  CPU/event P=${c.partitions} / P=1, paired: redis | node, median (min..max)`,
      '-',
      `${cpuRatios((x) => x.redisUs[0])} | ${cpuRatios((x) => x.nodeUs)}`,
    );
  } else if (c.error) {
    row(`consume+ack P=${c.partitions} / P=1`, '-', '(failed)');
  }
  return rows;
}

export function render(r: Results): string {
  const m = r.machine;
  const lines: string[] = [];
  lines.push('');
  lines.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.totalMemGB} GB, ${m.platform}, Node ${m.node}, redis-server ${m.redis} (own throwaway server, no persistence)`,
  );
  lines.push(
    `Config:  ${Object.entries(r.config)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ')}`,
  );
  lines.push('');
  lines.push(
    table(
      ['measure', 'raw ioredis', 'library', 'lib/raw', 'target', 'result'],
      r.verdicts.map((v) => [v.measure, v.raw, v.library, v.ratio, v.target, v.result]),
    ),
  );
  lines.push('');
  if (r.peers) lines.push(renderPeers(r.peers), '');
  const notes: string[] = [];
  if (r.publish) {
    const p = r.publish;
    const all = (t?: { runs?: number[] }): string => (t?.runs ? t.runs.map((x) => fmt(x)).join(' / ') : '-');
    notes.push(
      `publish: ${p.repeat} interleaved rounds (raw pipelined, publishMany, raw concurrent, publish() in each); all runs ev/s: pipelined raw ${all(p.pipelined.raw)}, lib ${all(p.pipelined.lib)}; concurrent raw ${all(p.concurrent.raw)}, lib ${all(p.concurrent.lib)}`,
    );
    if (p.pipelined.error) notes.push(`publish library error: ${p.pipelined.error}`);
  }
  if (r.consume) {
    const c = r.consume;
    const all = (t?: { runs?: number[] }): string => (t?.runs ? t.runs.map((x) => fmt(x)).join(' / ') : '-');
    notes.push(
      `consume: batchSize ${c.batchSize}, concurrency ${c.concurrency}; library timed from app start (boot ${fmt(c.libNoValidate?.bootMs)} / ${fmt(c.libValidate?.bootMs)} ms) until count = N and XPENDING = 0`,
    );
    notes.push(
      `consume: best of ${c.repeat} interleaved runs (fresh group each); all runs ev/s: raw ${all(c.raw)}, lib ${all(c.libNoValidate)}, lib+validate ${all(c.libValidate)}, lib dedupe off ${all(c.libNoDedupe)}`,
    );
    if (c.error) notes.push(`consume library error: ${c.error}`);
  }
  if (r.guard) {
    const g = r.guard;
    notes.push(
      `guard: ${g.pairs.length} pairs of library consumers (validate=false, concurrency ${g.concurrency}) over ${fmt(g.events)} events, guard on and off in alternating order; gaps ${g.pairs.map((p) => fmt(p.gap * 100, 1)).join(' / ')} %`,
    );
    if (g.error) notes.push(`guard phase error: ${g.error}`);
  }
  if (r.commit) {
    const c = r.commit;
    const all = (v: 'plain' | 'commit' | 'raw'): string => c.runs[v].map((x) => fmt(x.perSec)).join(' / ');
    notes.push(
      `commit: ${fmt(c.events)} events per run, ${c.repeat} repetitions in rotating order (${c.orders.map((o) => o.join('>')).join(', ')}); per event one PaymentSucceeded + one HINCRBY; ` +
        `library batch ${c.batchSize}, concurrency ${c.concurrency}, validate=false, dedupe guard on (default); raw: one MULTI (XADD + HINCRBY + XACK) per entry, no dedupe; timed from the first entry in hand`,
    );
    notes.push(
      `commit: all runs ev/s: raw ${all('raw')}, plain ${all('plain')}, commit ${all('commit')}; library boot until first handler call ${c.runs.commit.map((x) => fmt(x.bootMs)).join(' / ')} ms`,
    );
    if (c.error) notes.push(`commit phase error: ${c.error}`);
  }
  for (const l of r.latency ?? []) {
    const sent = (run?: LatencyRun): string =>
      run ? `${fmt(run.achievedPerSec)}/s, ${fmt(run.measured)} measured` : '-';
    notes.push(
      `latency: target ${fmt(l.ratePerSec)}/s for ${l.seconds} s; ${l.schedule}; achieved raw ${sent(l.raw)}, lib ${sent(l.libNoValidate)}, lib+validate ${sent(l.libValidate)}`,
    );
    if (l.error) notes.push(`latency library error: ${l.error}`);
  }
  if (r.backlog) {
    const b = r.backlog;
    notes.push(
      `backlog: ${fmt(b.backlog)} events prefilled at ${fmt(b.prefillPerSec)} ev/s, Redis used_memory ${fmt(b.redisUsedMemoryMB, 1)} MB; library consumer batchSize 500, concurrency ${b.concurrency}, validate=${b.validate}; each side drained by its own child process${b.compiled === false ? ' through ts-node (compiling to JavaScript failed: RSS includes the TypeScript compiler)' : ' running the project compiled to JavaScript'}`,
    );
    if (b.error) notes.push(`backlog library error: ${b.error}`);
  }
  if (r.cluster) {
    const c = r.cluster;
    const all = (runs: ClusterRun[]): string => runs.map((x) => fmt(x.perSec)).join(' / ') || '-';
    notes.push(
      `cluster: own servers (1 redis-server; ${c.masters} masters, no replicas), partitions ${c.partitions}, ${c.subjects} subjects, library defaults; ${fmt(c.events)} events per measurement, ` +
        `${c.repeat} repetitions, 1 Redis and cluster paired, order swapping (${c.orders.map((o) => o.join('>')).join(', ')}); publish 256 in flight (raw: XADD auto-pipelined to the partition keys); ` +
        `consume timed from the first handler call until all handled and XPENDING = 0; redis CPU = INFO cpu delta over each run (boot included) / events, per master`,
    );
    if (c.layout)
      notes.push(
        `cluster: partitions per master ${c.layout.partitionsPerMaster.join(' / ')}, events per master ${c.layout.eventsPerMaster.join(' / ')} (of ${fmt(c.events)})`,
      );
    notes.push(
      `cluster: all runs ev/s: raw publish 1 Redis ${all(c.single.rawPublish)}, cluster ${all(c.cluster.rawPublish)}; publish 1 Redis ${all(c.single.publish)}, cluster ${all(c.cluster.publish)}; consume 1 Redis ${all(c.single.consume)}, cluster ${all(c.cluster.consume)}`,
    );
    notes.push(
      `cluster: latency ${fmt(c.latencyRate)}/s for ${c.latencySeconds} s (500 ms warm-up excluded), publisher and handler in one app`,
    );
    notes.push(
      `cluster: P=${c.partitions} vs P=1: ${c.partitionCost.firsts.length} pairs over the same prefilled ${fmt(c.events)} events, fresh group each run, first of each pair ${c.partitionCost.firsts.join(', ')}; all runs ev/s P=1 ${all(c.partitionCost.p1)}, P=${c.partitions} ${all(c.partitionCost.p16)}`,
    );
    for (const failure of c.failures ?? []) notes.push(`cluster: failed, left out: ${failure}`);
    if (c.error) notes.push(`cluster phase error: ${c.error}`);
  }
  if (r.totalSeconds !== undefined) notes.push(`total run time ${r.totalSeconds.toFixed(1)} s`);
  lines.push(...notes.map((n) => `* ${n}`));
  return lines.join('\n');
}

/** The middle value (NaN-free); NaN when there is none. */
function median(values: number[]): number {
  return quantile(
    values.filter((v) => !Number.isNaN(v)),
    0.5,
  );
}

/**
 * The peers phase's own table: the library next to a BullMQ Worker and Nest's Redis transport.
 * Throughput ratio = library / peer (above 1: the library is faster); latency ratio = peer / library
 * (above 1: the library's figure is lower). Informational: no target.
 */
export function renderPeers(p: PeersPhase): string {
  const rows: string[][] = [];
  const range = (values: number[], digits = 0): string => {
    const s = spread(values);
    return values.length ? `${fmt(s.median, digits)} (${fmt(s.min, digits)}..${fmt(s.max, digits)})` : '-';
  };
  /** a[round] / b[round] over the rounds both sides finished: median (min..max). */
  const paired = <T extends { round: number }>(a: T[], b: T[], of: (x: T) => number): string => {
    const ratios = a.flatMap((x) => {
      const y = b.find((z) => z.round === x.round);
      return y ? [of(x) / of(y)] : [];
    });
    return ratios.length ? range(ratios, 2) : '-';
  };
  const names: Array<[Exclude<keyof PeersPhase['throughput'], 'library'>, string]> = [
    ['bullmq', `BullMQ Worker (c=${p.bullConcurrency})`],
    ['nest', 'Nest Redis transport'],
    ['transport', 'the platform Nest transport'],
  ];
  const lib = p.throughput.library;
  const perSec = (runs: PeerRun[]): number[] => runs.map((x) => x.perSec);
  for (const [peer, name] of names) {
    const runs = p.throughput[peer];
    const lost =
      peer === 'nest' && runs.length ? `lost ${runs.map((x) => fmt(x.lost)).join(' / ')} of ${fmt(p.events)}` : '';
    rows.push([
      `consume ${fmt(p.events)} events (ev/s): library vs ${name}`,
      range(perSec(runs)),
      range(perSec(lib)),
      `lib/peer ${paired(lib, runs, (x) => x.perSec)}`,
      lost,
    ]);
  }
  const lat = p.latency.library;
  const lostOf = (runs: PeerLatency[]): string => {
    const lost = runs.reduce((a, x) => a + x.lost, 0);
    return lost ? `${fmt(lost)} lost` : '';
  };
  for (const [peer, name] of names) {
    const runs = p.latency[peer];
    for (const q of ['p50', 'p99'] as const)
      rows.push([
        `latency @${fmt(p.ratePerSec)}/s ${q} ms: library vs ${name}`,
        range(
          runs.map((x) => x.stats[q]),
          2,
        ),
        range(
          lat.map((x) => x.stats[q]),
          2,
        ),
        `peer/lib ${paired(runs, lat, (x) => x.stats[q])}`,
        q === 'p99'
          ? [lostOf(runs) && `peer ${lostOf(runs)}`, lostOf(lat) && `library ${lostOf(lat)}`].filter(Boolean).join(', ')
          : '',
      ]);
  }
  const lines = [
    table(['peers: median (min..max) of the rounds', 'peer', 'library', 'ratio, per round', 'note'], rows),
    `* peers: ${p.repeat} rounds in rotating order (${p.orders.map((o) => o.join('>')).join(', ')}); library defaults (batchSize 100, concurrency 32, validate and dedupe on), timed from app start until N handled and XPENDING = 0 (boot ${lib.map((x) => fmt(x.bootMs)).join(' / ')} ms); ` +
      `BullMQ: N jobs addBulk'ed beforehand (removeOnComplete), timed from new Worker() until N completed; Nest: emit() flat out in chunks of ${p.emitChunk} from this process, timed from the first emit until the handler's last event, lost = never seen; the platform's transport (ServerRedisStreams, consumer defaults): the same emit() loop, timed until all N handled`,
    `* peers: all runs ev/s: library ${
      perSec(lib)
        .map((x) => fmt(x))
        .join(' / ') || '-'
    }, BullMQ ${
      perSec(p.throughput.bullmq)
        .map((x) => fmt(x))
        .join(' / ') || '-'
    }, Nest ${
      perSec(p.throughput.nest)
        .map((x) => fmt(x))
        .join(' / ') || '-'
    }, transport ${
      perSec(p.throughput.transport)
        .map((x) => fmt(x))
        .join(' / ') || '-'
    }; latency: ${fmt(p.ratePerSec)}/s for ${p.seconds} s each (500 ms warm-up excluded), producer and handler in this process`,
  ];
  for (const failure of p.failures) lines.push(`* peers: failed, left out: ${failure}`);
  if (p.leftoverKeys) lines.push(`* peers: ${p.leftoverKeys} keys left under peers*`);
  if (p.error) lines.push(`* peers phase error: ${p.error}`);
  return lines.join('\n');
}
