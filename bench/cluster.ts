import Redis, { Cluster } from 'ioredis';
import type { DynamicModule } from '@nestjs/common';
import type { RedisConnection } from '@nest-streams/event-bus/utils/redis-connection';
import type { OrderPlaced as OrderPlacedEvent } from '@app/contracts';
import { RedisCluster } from '../test/support/redis-cluster';
import { RedisServer } from '../test/support/redis-server';
import { redisCpuUs } from './consume';
import { STREAM, makeOrder, rawFields } from './events';
import type { OrderProps } from './events';
import { quantile } from './guard';
import {
  LatencyStats,
  LibModule,
  extraRootOptions,
  extraTuning,
  latencyStats,
  log,
  now,
  onCleanup,
  pool,
  rate,
  sleep,
  waitUntil,
} from './util';

/**
 * Phase `cluster`: partitioned streams, one Redis against a Redis Cluster, and what partitioned
 * reads cost. Starts its own throwaway servers (one redis-server, a cluster of MASTERS masters
 * without replicas) and stops them at the end. Workload: fat OrderPlaced events over SUBJECTS
 * distinct subjects (orderId), library defaults (validate on, dedupe guard on, batch 100,
 * concurrency 32) but for `partitions`.
 *
 *   A. `partitions: 16` on one Redis vs on the cluster, paired in every repetition (the order of the
 *      two swaps each repetition): raw XADD (auto-pipelined, 256 in flight, per-partition keys) and
 *      library publish() (256 in flight) of N events, consume+ack of those N by a @Subscribe
 *      handler doing nothing (a fresh app and group), end-to-end latency at a fixed rate. Around
 *      each measurement, INFO CPU of every master: its CPU delta / events is its CPU per event.
 *   B. On one Redis, consume+ack with `partitions: 16` vs `partitions: 1` over the same prefilled
 *      events, in pairs whose order swaps, fresh group each run: the ratio per pair.
 *
 * Consume rates count from the handler's first call until all N were handled and nothing is pending
 * (boot: app start until that first call, reported on its own). Environment: BENCH_CLUSTER_EVENTS
 * (20000), BENCH_CLUSTER_REPEAT (3), BENCH_CLUSTER_PAIRS (5), BENCH_CLUSTER_RATE (1000/s),
 * BENCH_CLUSTER_LATENCY_SECONDS (2).
 */

export const SUBJECTS = 200;
export const PARTITIONS = 16;
export const MASTERS = 3;
/** Publishes in flight: enough to fill the auto-pipelines, few enough that none waits near the 1 s publish timeout on a busy machine. */
const IN_FLIGHT = 256;
const WARM = 2000;
const LATENCY_WARMUP_MS = 500;

export type Topology = 'single' | 'cluster';

export interface ClusterRun {
  events: number;
  /** Timed span: the whole publish; for consume, the first handler call until all is handled and acked. */
  ms: number;
  perSec: number;
  /** Consume: NestFactory start until the first handler call, ms. */
  bootMs?: number;
  /** This process's CPU per event (user + system), us. */
  nodeUs: number;
  /** redis-server CPU per event, us, one value per master (the single Redis: one value), whole run including boot. */
  redisUs: number[];
}

export interface LatencyResult {
  sent: number;
  lost: number;
  achievedPerSec: number;
  stats: LatencyStats;
}

export interface TopologyRuns {
  rawPublish: ClusterRun[];
  publish: ClusterRun[];
  consume: ClusterRun[];
  latency: LatencyResult[];
}

export interface ClusterPhase {
  events: number;
  repeat: number;
  pairs: number;
  partitions: number;
  masters: number;
  subjects: number;
  latencyRate: number;
  latencySeconds: number;
  /** Partitions and events (of N) each master holds, in master order (by port). */
  layout?: { partitionsPerMaster: number[]; eventsPerMaster: number[] };
  /** The order of each repetition of part A. */
  orders: Topology[][];
  single: TopologyRuns;
  cluster: TopologyRuns;
  /** Part B: consume+ack on one Redis with partitions 16 and 1, pair by pair. */
  partitionCost: { p16: ClusterRun[]; p1: ClusterRun[]; firsts: Array<'p16' | 'p1'> };
  /** Runs that failed and were left out (their repetition or pair dropped; a failed latency run alone). */
  failures: string[];
  /** What stopped the phase. */
  error?: string;
}

/** The subject (orderId) of event i: SUBJECTS distinct ones. */
const subjectOf = (i: number): string => `ord-${(i % SUBJECTS).toString().padStart(4, '0')}`;

function order(i: number, tag: string): OrderProps {
  return { ...makeOrder(i, tag), orderId: subjectOf(i) };
}

// cluster-key-slot (ioredis's own CRC16) ships no type declarations; the raw side must not need the library.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const keySlot = require('cluster-key-slot') as (key: string) => number;

/** The partition of a subject without braces: CLUSTER KEYSLOT(subject) mod P, as the library computes it. */
const partitionOf = (subject: string, partitions: number): number =>
  partitions === 1 ? 0 : keySlot(subject) % partitions;

/** The stream key of partition k as the library lays it out (keys.ts), the same on one Redis and on a cluster. */
function partitionKey(ns: string, k: number, partitions: number): string {
  return partitions === 1 ? `${ns}:{${STREAM}}` : `${ns}:{${ns}/${k}}:{${STREAM}}`;
}

const keysOf = (ns: string, partitions: number): string[] =>
  Array.from({ length: partitions }, (_, k) => partitionKey(ns, k, partitions));

/** One side of part A: how to reach it, for the library and for raw commands. */
interface Target {
  name: Topology;
  /** forRoot({ redis }) */
  connection: RedisConnection;
  /** Auto-pipelining command client (a Cluster typed as Redis on the cluster, as the library does). */
  raw: Redis;
  /** One plain client per master, for INFO and FLUSHALL. */
  masters: Redis[];
}

async function cpuOf(masters: Redis[]): Promise<number[]> {
  return Promise.all(masters.map((m) => redisCpuUs(m)));
}

async function flush(t: Target): Promise<void> {
  await Promise.all(t.masters.map((m) => m.flushall()));
}

async function totalLength(redis: Redis, keys: string[]): Promise<number> {
  const lengths = await Promise.all(keys.map((k) => redis.xlen(k)));
  return lengths.reduce((a, b) => a + b, 0);
}

async function pendingTotal(redis: Redis, keys: string[], group: string): Promise<number> {
  const summaries = await Promise.all(keys.map((k) => redis.xpending(k, group) as Promise<[number, ...unknown[]]>));
  return summaries.reduce((a, s) => a + Number(s[0]), 0);
}

/** Runs `run` (which returns its timed span), stamping node and per-master redis CPU per event. */
async function measured(
  masters: Redis[],
  n: number,
  run: () => Promise<{ ms: number; bootMs?: number }>,
): Promise<ClusterRun> {
  const redis0 = await cpuOf(masters);
  const node0 = process.cpuUsage();
  const { ms, bootMs } = await run();
  const node = process.cpuUsage(node0);
  const redis1 = await cpuOf(masters);
  return {
    events: n,
    ms: Math.round(ms),
    perSec: rate(n, ms),
    ...(bootMs === undefined ? {} : { bootMs: Math.round(bootMs) }),
    nodeUs: (node.user + node.system) / n,
    redisUs: redis1.map((v, i) => (v - redis0[i]) / n),
  };
}

// ---------------------------------------------------------------------------------------------
// The library side: its own Nest app (bench/lib-app.ts takes a URL only), loaded lazily.

interface ClusterLibApp {
  publish(props: OrderProps): Promise<unknown>;
  close(): Promise<void>;
}

interface ClusterAppOptions {
  connection: RedisConnection;
  namespace: string;
  partitions: number;
  /** Consumer group of a do-nothing handler that calls `onEvent`; publish only when absent. */
  group?: string;
  onEvent?: (payload: OrderProps) => void;
}

async function createClusterApp(options: ClusterAppOptions): Promise<ClusterLibApp> {
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only once the library is known to load (see loadLib) */
  const { Injectable, Module } = require('@nestjs/common') as typeof import('@nestjs/common');
  const { NestFactory } = require('@nestjs/core') as typeof import('@nestjs/core');
  const { EventBusModule, EventPublisher, Subscribe } =
    require('@nest-streams/event-bus') as typeof import('@nest-streams/event-bus');
  const { OrderPlaced } = require('@app/contracts') as typeof import('@app/contracts');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const onEvent = options.onEvent ?? ((): void => undefined);

  @Injectable()
  class ClusterBenchHandler {
    @Subscribe(OrderPlaced)
    onOrderPlaced(payload: OrderProps): void {
      onEvent(payload);
    }
  }
  @Module({})
  class ClusterBenchFeature {}
  @Module({})
  class ClusterBenchRoot {}

  const tuning = extraTuning();
  const consumer = Object.keys(tuning).length ? tuning : undefined;
  const imports: DynamicModule[] = [
    EventBusModule.forRoot({
      redis: options.connection,
      namespace: options.namespace,
      partitions: options.partitions,
      source: 'bench',
      consume: options.group !== undefined,
      ...(consumer ? { consumer } : {}),
      isGlobal: true,
      ...extraRootOptions(),
    }),
  ];
  if (options.group !== undefined) {
    imports.push({
      module: ClusterBenchFeature,
      imports: [EventBusModule.forFeature({ group: options.group, ...(consumer ? { consumer } : {}) })],
      providers: [ClusterBenchHandler],
    });
  }
  const app = await NestFactory.createApplicationContext(
    { module: ClusterBenchRoot, imports },
    { logger: process.env.BENCH_WARN === '1' ? ['error', 'warn'] : ['error'] },
  );
  const publisher = app.get(EventPublisher);
  let closed = false;
  return {
    publish: (props) => publisher.publish(new OrderPlaced(props as OrderPlacedEvent)),
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Measurements.

async function rawPublish(t: Target, ns: string, n: number, tag: string): Promise<ClusterRun> {
  const keys = keysOf(ns, PARTITIONS);
  const run = await measured(t.masters, n, async () => {
    const t0 = now();
    await pool(n, IN_FLIGHT, (i) => {
      const props = order(i, tag);
      return t.raw.xadd(keys[partitionOf(props.orderId, PARTITIONS)], '*', ...rawFields(props));
    });
    return { ms: now() - t0 };
  });
  const len = await totalLength(t.raw, keys);
  if (len !== n) throw new Error(`raw publish on ${t.name}: ${len} entries, expected ${n}`);
  return run;
}

async function libPublish(t: Target, ns: string, n: number, tag: string): Promise<ClusterRun> {
  const app = await createClusterApp({ connection: t.connection, namespace: ns, partitions: PARTITIONS });
  try {
    // NOTE: the connection is up and the publish path warm before the clock starts.
    await app.publish(order(n, `${tag}-first`));
    const run = await measured(t.masters, n, async () => {
      const t0 = now();
      await pool(n, IN_FLIGHT, (i) => app.publish(order(i, tag)));
      return { ms: now() - t0 };
    });
    const len = await totalLength(t.raw, keysOf(ns, PARTITIONS));
    if (len !== n + 1) throw new Error(`library publish on ${t.name}: ${len} entries, expected ${n + 1}`);
    return run;
  } finally {
    await app.close();
  }
}

/** A fresh app and group drains the `expect` events of `ns`: timed from the first handler call until all are handled and nothing is pending. */
async function libConsume(
  t: Target,
  ns: string,
  partitions: number,
  group: string,
  expect: number,
): Promise<ClusterRun> {
  const keys = keysOf(ns, partitions);
  return measured(t.masters, expect, async () => {
    let count = 0;
    let bad = 0;
    let first = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const t0 = now();
    const app = await createClusterApp({
      connection: t.connection,
      namespace: ns,
      partitions,
      group,
      onEvent: (payload) => {
        if (count === 0) first = now();
        if (typeof payload.orderId !== 'string') bad++;
        if (++count === expect) resolveDone();
      },
    });
    try {
      const timeoutMs = Math.max(60_000, expect / 2);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        done,
        new Promise(
          (_, reject) =>
            (timer = setTimeout(
              () =>
                reject(
                  new Error(`${t.name} P=${partitions}: the handler saw ${count} of ${expect} in ${timeoutMs} ms`),
                ),
              timeoutMs,
            )),
        ),
      ]).finally(() => clearTimeout(timer));
      await waitUntil(
        `${t.name} group ${group} pending = 0`,
        async () => (await pendingTotal(t.raw, keys, group)) === 0,
        30_000,
        2,
      );
      const end = now();
      if (bad) throw new Error(`${bad} payloads without orderId`);
      if (count !== expect) throw new Error(`${t.name} P=${partitions}: the handler saw ${count}, expected ${expect}`);
      return { ms: end - first, bootMs: first - t0 };
    } finally {
      await app.close();
    }
  });
}

/** Publisher and consumer in one app: `ratePerSec` for warm-up + `seconds`, latency from publish() to the handler. */
async function libLatency(t: Target, ns: string, ratePerSec: number, seconds: number): Promise<LatencyResult> {
  const sent = new Map<string, number>();
  const samples: number[] = [];
  let received = 0;
  let warmupUntil = Infinity;
  let errors = 0;
  let firstError: unknown;
  const app = await createClusterApp({
    connection: t.connection,
    namespace: ns,
    partitions: PARTITIONS,
    group: 'lat',
    onEvent: (payload) => {
      const t0 = sent.get(payload.userId);
      if (t0 === undefined) return;
      sent.delete(payload.userId);
      received++;
      if (t0 >= warmupUntil) samples.push(now() - t0);
    },
  });
  try {
    await sleep(50);
    const perMs = ratePerSec / 1000;
    const total = Math.round(perMs * (LATENCY_WARMUP_MS + seconds * 1000));
    const start = now();
    warmupUntil = start + LATENCY_WARMUP_MS;
    let count = 0;
    // NOTE: like the latency phase: a 1 ms timer, each tick sends what is due (drift-corrected).
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const due = Math.min(total, Math.floor((now() - start) * perMs));
        while (count < due) {
          const i = count++;
          // NOTE: userId carries the sequence (the subject stays one of SUBJECTS).
          const props = { ...order(i, 'lat'), userId: `lat-${i}` };
          sent.set(props.userId, now());
          app.publish(props).catch((error: unknown) => {
            errors++;
            firstError ??= error;
          });
        }
        if (count >= total) resolve();
        else setTimeout(tick, 1);
      };
      tick();
    });
    const ms = now() - start;
    await waitUntil('all latency events received', () => received >= total, 5000, 5).catch(() => undefined);
    if (errors)
      throw new Error(
        `latency on ${t.name}: ${errors} of ${total} publishes failed, the first with: ${String(firstError)}`,
      );
    return { sent: total, lost: total - received, achievedPerSec: rate(total, ms), stats: latencyStats(samples) };
  } finally {
    await app.close();
  }
}

/** Appends n events to the partition keys of `ns` with raw pipelined XADD (batches of 1000). */
async function prefill(redis: Redis, ns: string, partitions: number, n: number, tag: string): Promise<void> {
  for (let start = 0; start < n; start += 1000) {
    const pipeline = redis.pipeline();
    for (let i = start; i < Math.min(n, start + 1000); i++) {
      const props = order(i, tag);
      pipeline.xadd(partitionKey(ns, partitionOf(props.orderId, partitions), partitions), '*', ...rawFields(props));
    }
    const results = await pipeline.exec();
    if (!results || results.some(([error]) => error)) throw new Error('prefill pipeline failed');
  }
}

/** Which master serves each slot (CLUSTER SLOTS), as an index into `ports`. */
async function slotOwners(admin: Redis, ports: number[]): Promise<(slot: number) => number> {
  const ranges = (await admin.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, ...unknown[]]]>;
  return (slot) => {
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    return range ? ports.indexOf(Number(range[2][1])) : -1;
  };
}

const emptyRuns = (): TopologyRuns => ({ rawPublish: [], publish: [], consume: [], latency: [] });

export interface ClusterBenchOptions {
  events: number;
  repeat: number;
  pairs: number;
  latencyRate: number;
  latencySeconds: number;
}

export async function benchCluster(o: ClusterBenchOptions, lib: LibModule | Error): Promise<ClusterPhase> {
  const result: ClusterPhase = {
    events: o.events,
    repeat: o.repeat,
    pairs: o.pairs,
    partitions: PARTITIONS,
    masters: MASTERS,
    subjects: SUBJECTS,
    latencyRate: o.latencyRate,
    latencySeconds: o.latencySeconds,
    orders: [],
    single: emptyRuns(),
    cluster: emptyRuns(),
    partitionCost: { p16: [], p1: [], firsts: [] },
    failures: [],
  };
  const teardown: Array<() => Promise<unknown> | unknown> = [];
  const stop = async (): Promise<void> => {
    while (teardown.length) await Promise.resolve(teardown.pop()!()).catch(() => undefined);
  };
  const unregister = onCleanup(stop);
  const failed = (what: string, error: unknown): void => {
    const message = error instanceof Error ? error.message : String(error);
    result.failures.push(`${what}: ${message}`);
    log(`cluster: ${what} failed: ${message}`);
  };
  try {
    log(`cluster: starting a throwaway redis-server and a ${MASTERS}-master cluster`);
    const server = await RedisServer.start();
    teardown.push(() => server.destroy());
    const redisCluster = await RedisCluster.start({ masters: MASTERS });
    teardown.push(() => redisCluster.destroy());

    const single: Target = {
      name: 'single',
      connection: server.url,
      raw: new Redis(server.url, { enableAutoPipelining: true }),
      masters: [new Redis(server.url)],
    };
    const ports = redisCluster.masters.map((m) => m.port).sort((a, b) => a - b);
    const clusterClient = new Cluster(redisCluster.seeds, { enableAutoPipelining: true });
    const cluster: Target = {
      name: 'cluster',
      connection: { cluster: redisCluster.seeds },
      raw: clusterClient as unknown as Redis,
      masters: ports.map((port) => new Redis({ host: '127.0.0.1', port })),
    };
    const disconnect = (t: Target): void => [t.raw, ...t.masters].forEach((c) => c.disconnect());
    for (const t of [single, cluster]) {
      // NOTE: errors surface through the commands; an unheard 'error' event would only be printed.
      [t.raw, ...t.masters].forEach((c) => c.on('error', () => undefined));
      teardown.push(() => disconnect(t));
    }

    // NOTE: where the partitions (and so the events) sit decides each master's share of the load.
    const owner = await slotOwners(cluster.masters[0], ports);
    const partitionsPerMaster = ports.map(() => 0);
    for (let k = 0; k < PARTITIONS; k++) partitionsPerMaster[owner(keySlot(`cpub/${k}`))]++;
    const eventsPerMaster = ports.map(() => 0);
    for (let i = 0; i < o.events; i++)
      eventsPerMaster[owner(keySlot(partitionKey('cpub', partitionOf(subjectOf(i), PARTITIONS), PARTITIONS)))]++;
    result.layout = { partitionsPerMaster, eventsPerMaster };
    log(
      `cluster: masters ${ports.join(', ')}; partitions per master ${partitionsPerMaster.join('/')}, events per master ${eventsPerMaster.join('/')}`,
    );

    if (lib instanceof Error) throw new Error(`library not loadable: ${lib.message.split('\n')[0]}`);

    // NOTE: one namespace for every publish and consume run (flushed between), so the partitions
    // sit on the same masters in every run.
    const ns = 'cpub';
    log('cluster: warm-up (raw publish, library publish, consume on each topology)');
    for (const t of [single, cluster]) {
      await rawPublish(t, ns, WARM, 'w');
      await flush(t);
      await libPublish(t, ns, WARM, 'w');
      await libConsume(t, ns, PARTITIONS, 'warm', WARM + 1);
      await flush(t);
    }

    const us = (run: ClusterRun): string => run.redisUs.map((v) => v.toFixed(1)).join('/');
    /** One topology's share of repetition r: raw publish, publish, consume of what was published, latency. */
    const repetition = async (
      t: Target,
      r: number,
    ): Promise<{ rawPublish: ClusterRun; publish: ClusterRun; consume: ClusterRun; latency?: LatencyResult }> => {
      const rawRun = await rawPublish(t, ns, o.events, `r${r}`);
      await flush(t);
      const pub = await libPublish(t, ns, o.events, `p${r}`);
      // NOTE: the N (+1 untimed) events just published are what the fresh group consumes.
      const cons = await libConsume(t, ns, PARTITIONS, `g${r}`, o.events + 1);
      await flush(t);
      // NOTE: a latency run that fails (e.g. publishes timing out on a starved machine) is noted; the rest of the repetition counts.
      const lat = await libLatency(t, `clat${r}`, o.latencyRate, o.latencySeconds).catch(
        (error: unknown) => void failed(`latency ${t.name} run ${r}`, error),
      );
      await flush(t);
      log(
        `cluster: run ${r}/${o.repeat} ${t.name}: raw publish ${rawRun.perSec} ev/s (redis ${us(rawRun)} us/ev), publish ${pub.perSec} ev/s (redis ${us(pub)}), ` +
          `consume ${cons.perSec} ev/s (boot ${cons.bootMs} ms, redis ${us(cons)}), latency ${lat ? `p50 ${lat.stats.p50.toFixed(2)} p99 ${lat.stats.p99.toFixed(2)} ms (${lat.lost} lost)` : 'failed'}`,
      );
      return { rawPublish: rawRun, publish: pub, consume: cons, latency: lat };
    };
    for (let r = 1; r <= o.repeat; r++) {
      const sequence: Target[] = r % 2 === 1 ? [single, cluster] : [cluster, single];
      // NOTE: a repetition counts only when both topologies completed it, so the runs stay paired.
      const done: Array<[Target, Awaited<ReturnType<typeof repetition>>]> = [];
      for (const t of sequence) {
        try {
          done.push([t, await repetition(t, r)]);
        } catch (error) {
          failed(`run ${r} ${t.name} (repetition dropped)`, error);
          await flush(t).catch(() => undefined);
          break;
        }
      }
      if (done.length !== sequence.length) continue;
      result.orders.push(sequence.map((t) => t.name));
      for (const [t, rep] of done) {
        const runs = result[t.name];
        runs.rawPublish.push(rep.rawPublish);
        runs.publish.push(rep.publish);
        runs.consume.push(rep.consume);
        if (rep.latency) runs.latency.push(rep.latency);
      }
    }
    // NOTE: part B runs on the single Redis alone: the cluster's nodes go away first.
    disconnect(cluster);
    await redisCluster.destroy();

    log(`cluster: partitioned reads, P=${PARTITIONS} vs P=1 on one Redis, ${o.pairs} pairs of ${o.events} events`);
    await prefill(single.masters[0], 'pp16', PARTITIONS, o.events, 'q');
    await prefill(single.masters[0], 'pp1', 1, o.events, 'q');
    await prefill(single.masters[0], 'pw16', PARTITIONS, WARM, 'qw');
    await prefill(single.masters[0], 'pw1', 1, WARM, 'qw');
    await libConsume(single, 'pw16', PARTITIONS, 'warm', WARM);
    await libConsume(single, 'pw1', 1, 'warm', WARM);
    const clean = async (nsName: string, partitions: number, group: string): Promise<void> => {
      // NOTE: every run starts from the same Redis: the group, its dedupe markers and leases go.
      const admin = single.masters[0];
      await Promise.all(
        keysOf(nsName, partitions).map((k) => admin.xgroup('DESTROY', k, group).catch(() => undefined)),
      );
      const leftovers = (await admin.keys(`${nsName}:*`)).filter((key) => key.split(':').includes(group));
      if (leftovers.length) await admin.del(...leftovers);
    };
    for (let r = 1; r <= o.pairs; r++) {
      const firstP16 = r % 2 === 1;
      const p16 = async (): Promise<ClusterRun> => {
        const run = await libConsume(single, 'pp16', PARTITIONS, `b${r}`, o.events);
        await clean('pp16', PARTITIONS, `b${r}`);
        return run;
      };
      const p1 = async (): Promise<ClusterRun> => {
        const run = await libConsume(single, 'pp1', 1, `b${r}`, o.events);
        await clean('pp1', 1, `b${r}`);
        return run;
      };
      let a: ClusterRun, b: ClusterRun;
      try {
        [a, b] = firstP16 ? [await p16(), await p1()] : [await p1(), await p16()];
      } catch (error) {
        failed(`pair ${r} (dropped)`, error);
        await clean('pp16', PARTITIONS, `b${r}`).catch(() => undefined);
        await clean('pp1', 1, `b${r}`).catch(() => undefined);
        continue;
      }
      const [x16, x1] = firstP16 ? [a, b] : [b, a];
      result.partitionCost.firsts.push(firstP16 ? 'p16' : 'p1');
      result.partitionCost.p16.push(x16);
      result.partitionCost.p1.push(x1);
      log(
        `cluster: pair ${r}/${o.pairs} (${firstP16 ? 'P=16 first' : 'P=1 first'}): P=16 ${x16.perSec} ev/s (boot ${x16.bootMs} ms), P=1 ${x1.perSec} ev/s (boot ${x1.bootMs} ms), ratio ${(x16.perSec / x1.perSec).toFixed(3)}`,
      );
    }
    return result;
  } catch (error) {
    log(`cluster: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return { ...result, error: error instanceof Error ? error.message : String(error) };
  } finally {
    await stop();
    unregister();
  }
}

// ---------------------------------------------------------------------------------------------
// Summaries for the report.

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: number[]): Spread {
  const v = values.filter((x) => !Number.isNaN(x));
  return { median: quantile(v, 0.5), min: v.length ? Math.min(...v) : NaN, max: v.length ? Math.max(...v) : NaN };
}

/** Per-master CPU per event of the runs: per master the median over runs, then the mean and the max over masters. */
export function perMasterCpu(
  runs: ClusterRun[],
): { perMaster: number[]; mean: number; max: number; total: number } | undefined {
  if (!runs.length) return undefined;
  const masters = runs[0].redisUs.length;
  const perMaster = Array.from({ length: masters }, (_, m) =>
    quantile(
      runs.map((r) => r.redisUs[m]),
      0.5,
    ),
  );
  const total = perMaster.reduce((a, b) => a + b, 0);
  return { perMaster, mean: total / masters, max: Math.max(...perMaster), total };
}

/** Ratios of paired runs, a[i] / b[i]. */
export function pairedRatios(a: number[], b: number[]): number[] {
  return a.slice(0, b.length).map((x, i) => x / b[i]);
}
