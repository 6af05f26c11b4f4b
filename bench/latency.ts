import Redis from 'ioredis';
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import { stageProbe } from '@nest-streams/event-bus/consumer/stage-probe';
import type { ConsumerStage } from '@nest-streams/event-bus/consumer/stage-probe';
import { dataField, makeOrder, rawFields, streamKey } from './events';
import { LatencyStats, LibModule, fmt, latencyStats, log, now, sleep, table, waitUntil } from './util';

/**
 * Phase 3: end-to-end latency at a steady rate, producer and consumer live in this process.
 * Schedule: a 1 ms timer; each tick sends every event due by then (rate x elapsed, drift-corrected),
 * i.e. ~10 events per tick at 10k/s and a bigger burst when a tick fires late. Each event's send
 * time (performance.now() when publish/xadd was called) is kept in a Map orderId -> t0; the
 * consumer records now - t0 when the handler (raw: the read loop, after JSON.parse) sees it.
 * The first WARMUP_MS of events are sent but excluded from the figures.
 *
 * Library side, per event, the time of each stage (the library's internal stage probe, see
 * consumer/stage-probe.ts, plus the send time): published -> read (XREADGROUP returned its batch)
 * -> claimed (the dedupe guard's claim of the batch answered) -> released (batch handed to the
 * dispatcher) -> started (handler called) -> handled (handler returned) -> acked (the XACK's
 * reply); `stages` holds the percentiles of each step's delta and of published -> acked.
 */

export const WARMUP_MS = 500;
const DEBUG = process.env.BENCH_DEBUG === '1';

export interface LatencyRun {
  sent: number;
  measured: number;
  lost: number;
  achievedPerSec: number;
  stats: LatencyStats;
  /** Where a tail can come from: event-loop delay (1 ms resolution) and GC pauses during the run, in ms. */
  loopDelay: { p50: number; p99: number; max: number };
  gc: { count: number; totalMs: number; maxMs: number };
  /** This process's CPU time over the measured window, in % of one core (producer and consumer together). */
  cpuPct: number;
  /** Library side: per stage step ("published->read", ...), percentiles of its delta in ms. */
  stages?: Record<string, StageStats>;
}

export interface StageStats {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** The stages timed per event, in order (0: the send time). */
const STAGES = ['published', 'read', 'claimed', 'released', 'started', 'handled', 'acked', 'written'] as const;
/** Not in the chain: when the publisher's XADD was answered (it races the read of the same entry). */
const WRITTEN = STAGES.indexOf('written');
const STAGE_INDEX = new Map<string, number>(STAGES.map((s, i) => [s, i]));

export interface LatencyPhase {
  ratePerSec: number;
  seconds: number;
  schedule: string;
  raw: LatencyRun;
  libNoValidate?: LatencyRun;
  libValidate?: LatencyRun;
  error?: string;
}

interface Recorder {
  sent: Map<string, number>;
  samples: number[];
  /** BENCH_DEBUG only: send time (ms after warm-up) of each sample. */
  at: number[];
  received: number;
  warmupUntil: number;
  stopMonitors: () => Pick<LatencyRun, 'loopDelay' | 'gc' | 'cpuPct'>;
  /** Library side: the stage log, appended to while the run goes and joined by entry id at its end. */
  stages?: StageLog;
}

/** One row per (stage, entry): appending costs less while measuring than a record per entry (GC). */
interface StageLog {
  ids: string[];
  stages: number[];
  times: number[];
}

function logStage(rec: Recorder, index: number, entryId: string, t: number): void {
  const log = rec.stages!;
  log.ids.push(entryId);
  log.stages.push(index);
  log.times.push(t);
}

function recordStage(rec: Recorder, stage: ConsumerStage, entryIds: readonly string[]): void {
  const t = now();
  const index = STAGE_INDEX.get(stage)!;
  for (const id of entryIds) logStage(rec, index, id, t);
}

/** The stage times of each entry (index as in STAGES; NaN: not seen; the first time counts, a redelivery repeats stages). */
function stageTimes(log: StageLog): Map<string, Float64Array> {
  const byEntry = new Map<string, Float64Array>();
  for (let i = 0; i < log.ids.length; i++) {
    let times = byEntry.get(log.ids[i]);
    if (!times) byEntry.set(log.ids[i], (times = new Float64Array(STAGES.length).fill(NaN)));
    if (Number.isNaN(times[log.stages[i]])) times[log.stages[i]] = log.times[i];
  }
  return byEntry;
}

/** Percentiles of each step between consecutive stages, and of published -> acked, over events sent after warm-up. */
function stageStats(rec: Recorder): Record<string, StageStats> {
  const steps: Array<[string, number, number]> = [];
  for (let i = 1; i < WRITTEN; i++) steps.push([`${STAGES[i - 1]}->${STAGES[i]}`, i - 1, i]);
  steps.push([`published->acked`, 0, WRITTEN - 1], ['published->written (XADD reply)', 0, WRITTEN]);
  const deltas = steps.map(() => [] as number[]);
  for (const times of stageTimes(rec.stages!).values()) {
    if (!(times[0] >= rec.warmupUntil)) continue;
    steps.forEach(([, from, to], k) => {
      const d = times[to] - times[from];
      if (Number.isFinite(d)) deltas[k].push(d);
    });
  }
  const r = (n: number): number => Math.round(n * 100) / 100;
  const out: Record<string, StageStats> = {};
  steps.forEach(([name], k) => {
    const sorted = Float64Array.from(deltas[k]).sort();
    const at = (q: number): number =>
      sorted.length ? r(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]) : NaN;
    out[name] = { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.length ? r(sorted[sorted.length - 1]) : NaN };
  });
  return out;
}

let gcLog: string[] = [];
let gcBase = 0;

function startMonitors(): Recorder['stopMonitors'] {
  gcLog = [];
  gcBase = now();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const gc = { count: 0, totalMs: 0, maxMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count++;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
      if (DEBUG && entry.duration > 1)
        gcLog.push(
          `${entry.duration.toFixed(1)}ms(kind ${(entry as unknown as { detail?: { kind?: number } }).detail?.kind})@${(entry.startTime - gcBase).toFixed(0)}`,
        );
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const r = (n: number): number => Math.round(n * 100) / 100;
  const cpu0 = process.cpuUsage();
  const t0 = now();
  return () => {
    loop.disable();
    observer.disconnect();
    const cpu = process.cpuUsage(cpu0);
    return {
      cpuPct: Math.round((cpu.user + cpu.system) / 10 / (now() - t0)),
      loopDelay: { p50: r(loop.percentile(50) / 1e6), p99: r(loop.percentile(99) / 1e6), max: r(loop.max / 1e6) },
      gc: { count: gc.count, totalMs: r(gc.totalMs), maxMs: r(gc.maxMs) },
    };
  };
}

function received(rec: Recorder, orderId: string): void {
  const t0 = rec.sent.get(orderId);
  if (t0 === undefined) return;
  rec.sent.delete(orderId);
  rec.received++;
  if (t0 >= rec.warmupUntil) {
    rec.samples.push(now() - t0);
    if (DEBUG) rec.at.push(t0 - rec.warmupUntil);
  }
}

/** Sends `ratePerSec` events/s for warm-up + `seconds`, drift-corrected on a 1 ms timer. */
async function produce(
  ratePerSec: number,
  seconds: number,
  rec: Recorder,
  send: (orderId: string, i: number) => void,
): Promise<{ sent: number; ms: number }> {
  const perMs = ratePerSec / 1000;
  const total = Math.round(perMs * (WARMUP_MS + seconds * 1000));
  const start = now();
  rec.warmupUntil = start + WARMUP_MS;
  setTimeout(() => (rec.stopMonitors = startMonitors()), WARMUP_MS);
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor((now() - start) * perMs));
      while (sent < due) {
        const i = sent++;
        const orderId = `ord-l-${i}`;
        rec.sent.set(orderId, now());
        send(orderId, i);
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  return { sent, ms: now() - start };
}

async function finish(rec: Recorder, sent: number, ms: number): Promise<LatencyRun> {
  await waitUntil('all latency events received', () => rec.received >= sent, 5000, 5).catch(() => undefined);
  const lost = sent - rec.received;
  if (DEBUG) {
    const worst = rec.samples
      .map((v, i) => [v, rec.at[i]])
      .sort((a, b) => b[0] - a[0])
      .slice(0, 30);
    log(`gc > 1 ms [duration(kind)@ms]: ${gcLog.join(' ')}`);
    log(`worst latencies [ms, sent at ms]: ${worst.map(([v, t]) => `${v.toFixed(1)}@${t.toFixed(0)}`).join(' ')}`);
  }
  return {
    sent,
    measured: rec.samples.length,
    lost,
    achievedPerSec: Math.round((sent * 1000) / ms),
    stats: latencyStats(rec.samples),
    ...rec.stopMonitors(),
    ...(rec.stages ? { stages: stageStats(rec) } : {}),
  };
}

const newRecorder = (): Recorder => ({
  sent: new Map(),
  samples: [],
  at: [],
  received: 0,
  warmupUntil: 0,
  stopMonitors: () => ({
    loopDelay: { p50: NaN, p99: NaN, max: NaN },
    gc: { count: 0, totalMs: 0, maxMs: 0 },
    cpuPct: NaN,
  }),
});

async function rawLatency(url: string, ratePerSec: number, seconds: number): Promise<LatencyRun> {
  const key = streamKey('lat-raw');
  const producer = new Redis(url, { enableAutoPipelining: true });
  const reader = new Redis(url);
  const rec = newRecorder();
  let running = true;
  let errors = 0;
  try {
    await reader.xgroup('CREATE', key, 'raw', '$', 'MKSTREAM');
    const loop = (async () => {
      while (running) {
        let reply: Array<[string, Array<[string, string[]]>]> | null;
        try {
          reply = (await reader.xreadgroup(
            'GROUP',
            'raw',
            'c1',
            'COUNT',
            500,
            'BLOCK',
            100,
            'STREAMS',
            key,
            '>',
          )) as typeof reply;
        } catch {
          if (running) errors++;
          break;
        }
        if (!reply) continue;
        const entries = reply[0][1];
        const ids = new Array<string>(entries.length);
        for (let k = 0; k < entries.length; k++) {
          ids[k] = entries[k][0];
          received(rec, (JSON.parse(dataField(entries[k][1]) ?? 'null') as { orderId: string }).orderId);
        }
        void reader.xack(key, 'raw', ...ids).catch(() => errors++);
      }
    })();
    const { sent, ms } = await produce(ratePerSec, seconds, rec, (orderId, i) => {
      const order = makeOrder(i, 'l');
      order.orderId = orderId;
      producer.xadd(key, '*', ...rawFields(order)).catch(() => errors++);
    });
    const run = await finish(rec, sent, ms);
    running = false;
    await loop;
    if (errors) throw new Error(`raw latency: ${errors} redis errors`);
    return run;
  } finally {
    running = false;
    await producer.del(key).catch(() => undefined);
    producer.disconnect();
    reader.disconnect();
  }
}

async function libLatency(
  lib: LibModule,
  url: string,
  ratePerSec: number,
  seconds: number,
  validate: boolean,
  concurrency: number,
): Promise<LatencyRun> {
  const namespace = validate ? 'lat-lib-v' : 'lat-lib';
  const rec = newRecorder();
  rec.stages = { ids: [], stages: [], times: [] };
  let errors = 0;
  const app = await lib.createLibApp({
    url,
    namespace,
    group: 'lat',
    consumer: { batchSize: 500, concurrency, validate, blockMs: 1000, startFrom: 'new' },
    sink: {
      onEvent: (payload, context) => {
        const t0 = rec.sent.get(payload.orderId);
        if (t0 !== undefined) logStage(rec, 0, context.entryId, t0);
        received(rec, payload.orderId);
      },
    },
  });
  stageProbe.on = (stage, entryIds) => recordStage(rec, stage, entryIds);
  try {
    await sleep(50);
    const { sent, ms } = await produce(ratePerSec, seconds, rec, (orderId, i) => {
      const order = makeOrder(i, 'l');
      order.orderId = orderId;
      app.publisher.publish(lib.toEvent(order)).then(
        (published) => logStage(rec, WRITTEN, published.entryId, now()),
        () => errors++,
      );
    });
    const run = await finish(rec, sent, ms);
    if (errors) throw new Error(`library latency: ${errors} publish errors`);
    log(
      `latency: library validate=${validate} ${ratePerSec}/s: p50 ${fmt(run.stats.p50, 2)} p99 ${fmt(run.stats.p99, 2)} max ${fmt(run.stats.max, 2)} ms; ` +
        `loop p99 ${fmt(run.loopDelay.p99, 2)}, cpu ${run.cpuPct}%; ${Object.entries(run.stages!)
          .map(([k, v]) => `${k} ${fmt(v.p50, 2)}/${fmt(v.p99, 2)}`)
          .join(' ')}`,
    );
    return run;
  } finally {
    stageProbe.on = undefined;
    await app.close();
    const admin = new Redis(url);
    await admin.del(streamKey(namespace)).catch(() => undefined);
    admin.disconnect();
  }
}

export async function benchLatency(
  url: string,
  ratePerSec: number,
  seconds: number,
  concurrency: number,
  lib: LibModule | Error,
): Promise<LatencyPhase> {
  const schedule = `1 ms timer, drift-corrected (~${ratePerSec / 1000} events per tick), ${WARMUP_MS} ms warm-up excluded`;
  log(`latency: raw ${ratePerSec}/s for ${seconds}s`);
  const result: LatencyPhase = { ratePerSec, seconds, schedule, raw: await rawLatency(url, ratePerSec, seconds) };
  log(
    `latency: raw ${ratePerSec}/s: p50 ${fmt(result.raw.stats.p50, 2)} p99 ${fmt(result.raw.stats.p99, 2)} max ${fmt(result.raw.stats.max, 2)} ms; loop p99 ${fmt(result.raw.loopDelay.p99, 2)}, cpu ${result.raw.cpuPct}%`,
  );
  if (lib instanceof Error) {
    result.error = String(lib);
    return result;
  }
  try {
    log(`latency: library validate=false ${ratePerSec}/s for ${seconds}s`);
    result.libNoValidate = await libLatency(lib, url, ratePerSec, seconds, false, concurrency);
    log(`latency: library validate=true ${ratePerSec}/s for ${seconds}s`);
    result.libValidate = await libLatency(lib, url, ratePerSec, seconds, true, concurrency);
  } catch (error) {
    result.error = String(error);
  }
  return result;
}

/** The library side's stage breakdown of each latency phase (one table per rate and validation setting). */
export function renderLatencyStages(phases: LatencyPhase[]): string {
  const ms = (n: number): string => fmt(n, 2);
  const out: string[] = [];
  for (const phase of phases) {
    for (const [label, run] of [
      ['validate=false', phase.libNoValidate],
      ['validate=true', phase.libValidate],
    ] as const) {
      if (!run?.stages) continue;
      out.push(
        `Latency stages, library ${label} at ${fmt(phase.ratePerSec)}/s (ms; end to end p50 / p99 ${ms(run.stats.p50)} / ${ms(run.stats.p99)}, raw ${ms(phase.raw.stats.p50)} / ${ms(phase.raw.stats.p99)}; event-loop delay p99 ${ms(run.loopDelay.p99)}, max ${ms(run.loopDelay.max)}; CPU ${run.cpuPct}% of a core; GC ${run.gc.count} pauses, max ${ms(run.gc.maxMs)}):`,
        table(
          ['step', 'p50', 'p90', 'p99', 'max'],
          Object.entries(run.stages).map(([step, s]) => [step, ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max)]),
        ),
        '',
      );
    }
  }
  return out.join('\n');
}
