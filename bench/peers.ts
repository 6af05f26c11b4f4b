import 'reflect-metadata';
import { Controller, Inject, Module } from '@nestjs/common';
import type { DynamicModule, INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, EventPattern, Payload, Transport } from '@nestjs/microservices';
import type { ClientProxy } from '@nestjs/microservices';
import { Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { prefill } from './consume';
import { makeOrder, streamKey } from './events';
import type { OrderProps } from './events';
import { LatencyStats, LibModule, latencyStats, log, now, pendingCount, rate, sleep, waitUntil } from './util';

/**
 * Peers: the library next to a BullMQ `Worker`, `@nestjs/microservices`' Redis transport and the
 * platform's own Nest transport (`ServerRedisStreams` / `ClientRedisStreams`), on the
 * same redis-server, the same fat OrderPlaced payload and a handler that only counts.
 *   Throughput: N events each. Library: a prefilled stream, a fresh group per run, library defaults
 *   (batchSize 100, concurrency 32, validate and the dedupe guard on), timed from app start until the
 *   handler saw N and XPENDING = 0 (as the consume phase). BullMQ: N jobs added with addBulk beforehand
 *   (removeOnComplete), a Worker with concurrency 50, timed from its construction until N `completed`.
 *   Nest: Pub/Sub keeps no backlog, so a listening microservice (@EventPattern) and a ClientProxy in
 *   this process; timed from the first emit() until the handler saw its last event; the emitter runs
 *   flat out (chunks of EMIT_CHUNK, yielding to the event loop between chunks); events never seen are lost.
 *   Transport: like Nest's side (a listening microservice, emit() flat out from this process), timed
 *   until the handler saw all N (it is durable: nothing may be lost); a fresh namespace per run.
 *   Rounds rotate the order of the sides; one untimed warm-up run of each side first.
 *   Latency: a steady rate on a 1 ms drift-corrected timer, the send time of each event kept by orderId
 *   (the payload's key) and read back in the handler; the first WARMUP_MS of events are not measured.
 */

export type Peer = 'library' | 'bullmq' | 'nest' | 'transport';
export const PEERS: readonly Peer[] = ['library', 'bullmq', 'nest', 'transport'];
export const BULL_CONCURRENCY = 50;
const EMIT_CHUNK = 1000;
const WARMUP_MS = 500;
/** Nest throughput: the run ends once the handler has seen nothing new for this long. */
const QUIET_MS = 2000;
const NEST_CHANNEL = 'order.placed';
const LIB_NS = 'peers';
const LIB_WARM_NS = 'peers-warm';
const LIB_LAT_NS = 'peers-lat';
const BULL_PREFIX = 'peers-bull';
/** The platform's own Nest transport: its namespace prefix (one namespace per run) and its group. */
const TRANSPORT_NS = 'peers-tr';
const TRANSPORT_GROUP = 'peers-transport';

export interface PeerRun {
  /** 1-based round (pairs the sides' runs). */
  round: number;
  events: number;
  /** Events the handler saw (Nest: emitted minus lost). */
  seen: number;
  lost: number;
  ms: number;
  perSec: number;
  /** Library: app boot (included in ms). */
  bootMs?: number;
}

export interface PeerLatency {
  round: number;
  sent: number;
  measured: number;
  lost: number;
  achievedPerSec: number;
  stats: LatencyStats;
}

export interface PeersPhase {
  events: number;
  repeat: number;
  ratePerSec: number;
  seconds: number;
  bullConcurrency: number;
  emitChunk: number;
  /** Order of the sides in each round. */
  orders: Peer[][];
  throughput: Record<Peer, PeerRun[]>;
  latency: Record<Peer, PeerLatency[]>;
  /** Runs that failed (left out of the figures). */
  failures: string[];
  /** Keys with the phase's prefixes still in Redis after its cleanup. */
  leftoverKeys?: number;
  error?: string;
}

type Run = Omit<PeerRun, 'round'>;
type Lat = Omit<PeerLatency, 'round'>;

interface Sink {
  onEvent(data: OrderProps): void;
}

const NEST_SINK = Symbol('PEERS_NEST_SINK');

@Controller()
class NestOrdersController {
  constructor(@Inject(NEST_SINK) private readonly sink: Sink) {}

  @EventPattern(NEST_CHANNEL)
  onOrderPlaced(@Payload() data: OrderProps): void {
    this.sink.onEvent(data);
  }
}

@Module({})
class NestPeersModule {}

function redisOptions(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379) };
}

/** A promise the caller resolves with `done()`; rejects after `timeoutMs`. */
function signal(timeoutMs: number, what: () => string): { done: () => void; wait: Promise<void> } {
  let done!: () => void;
  let timer: NodeJS.Timeout | undefined;
  const wait = new Promise<void>((resolve, reject) => {
    done = resolve;
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what()}`)), timeoutMs);
  }).finally(() => clearTimeout(timer));
  return { done, wait };
}

/**
 * A listening microservice (`options`: its transport) whose controller calls `sink`, and the client
 * `connect()` returns once `ready` resolved; both closed when `fn` ends.
 */
async function withMicroservice<T>(
  options: Record<string, unknown>,
  sink: Sink,
  ready: () => Promise<unknown>,
  connect: () => ClientProxy,
  fn: (client: ClientProxy) => Promise<T>,
): Promise<T> {
  const module: DynamicModule = {
    module: NestPeersModule,
    controllers: [NestOrdersController],
    providers: [{ provide: NEST_SINK, useValue: sink }],
  };
  let app: INestMicroservice | undefined;
  let client: ClientProxy | undefined;
  try {
    app = await NestFactory.createMicroservice(module, {
      ...options,
      logger: process.env.BENCH_WARN === '1' ? ['error', 'warn'] : ['error'],
    });
    await app.listen();
    await ready();
    client = connect();
    await client.connect();
    return await fn(client);
  } finally {
    await client?.close();
    await app?.close();
  }
}

/** A listening Nest Redis microservice and a connected ClientProxy; both closed when `fn` ends. */
function withNest<T>(url: string, admin: Redis, sink: Sink, fn: (client: ClientProxy) => Promise<T>): Promise<T> {
  return withMicroservice(
    { transport: Transport.REDIS, options: redisOptions(url) },
    sink,
    // NOTE: the server subscribes after listen() resolved; an emit before that would be lost.
    () =>
      waitUntil(
        'Nest subscribed',
        async () => Number(((await admin.pubsub('NUMSUB', NEST_CHANNEL)) as [string, number])[1]) >= 1,
        10_000,
        5,
      ),
    () => ClientProxyFactory.create({ transport: Transport.REDIS, options: redisOptions(url) }),
    fn,
  );
}

/** The transport's subpath, loaded when used: the other sides run when the library does not load. */
type TransportModule = typeof import('@nest-streams/event-bus/transport');

/**
 * A listening microservice on the platform's own transport (`ServerRedisStreams`, its consumer
 * defaults) and a connected `ClientRedisStreams`, in namespace `ns`; both closed when `fn` ends.
 */
function withTransport<T>(url: string, ns: string, sink: Sink, fn: (client: ClientProxy) => Promise<T>): Promise<T> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ServerRedisStreams, ClientRedisStreams } = require('@nest-streams/event-bus/transport') as TransportModule;
  return withMicroservice(
    { strategy: new ServerRedisStreams({ redis: url, namespace: ns, group: TRANSPORT_GROUP, metrics: false }) },
    sink,
    () => Promise.resolve(),
    () => new ClientRedisStreams({ redis: url, namespace: ns, metrics: false }),
    fn,
  );
}

// ---- throughput ----

async function libThroughput(
  lib: LibModule,
  admin: Redis,
  url: string,
  ns: string,
  group: string,
  n: number,
): Promise<Run> {
  let count = 0;
  let bad = 0;
  const s = signal(Math.max(60_000, n / 2), () => `library handler saw ${count} of ${n}`);
  const t0 = now();
  const app = await lib.createLibApp({
    url,
    namespace: ns,
    group,
    consumer: { startFrom: 'beginning' },
    sink: {
      onEvent: (payload) => {
        if (typeof payload.orderId !== 'string') bad++;
        if (++count === n) s.done();
      },
    },
  });
  const bootMs = now() - t0;
  try {
    await s.wait;
    await waitUntil(
      `group ${group} pending = 0`,
      async () => (await pendingCount(admin, streamKey(ns), group)) === 0,
      30_000,
      1,
    );
    const ms = now() - t0;
    if (bad) throw new Error(`library: ${bad} payloads without orderId`);
    return { events: n, seen: count, lost: 0, ms: Math.round(ms), perSec: rate(count, ms), bootMs: Math.round(bootMs) };
  } finally {
    await app.close();
  }
}

async function bullThroughput(url: string, name: string, n: number): Promise<Run> {
  const connection = { ...redisOptions(url), maxRetriesPerRequest: null };
  const queue = new Queue(name, { connection, prefix: BULL_PREFIX });
  let worker: Worker | undefined;
  try {
    for (let b = 0; b < n; b += 1000) {
      const jobs = [];
      for (let i = b; i < Math.min(n, b + 1000); i++)
        jobs.push({ name: NEST_CHANNEL, data: makeOrder(i, 'pb'), opts: { removeOnComplete: true } });
      await queue.addBulk(jobs);
    }
    let handled = 0;
    let completed = 0;
    let failed = 0;
    const s = signal(Math.max(60_000, n), () => `BullMQ completed ${completed} of ${n} (${failed} failed)`);
    const t0 = now();
    worker = new Worker(
      name,
      async (job) => {
        if (typeof (job.data as OrderProps).orderId === 'string') handled++;
      },
      { connection, prefix: BULL_PREFIX, concurrency: BULL_CONCURRENCY },
    );
    worker.on('completed', () => {
      if (++completed === n) s.done();
    });
    worker.on('failed', () => failed++);
    await s.wait;
    const ms = now() - t0;
    if (handled !== n) throw new Error(`BullMQ: handler counted ${handled} valid of ${n}`);
    return { events: n, seen: completed, lost: 0, ms: Math.round(ms), perSec: rate(completed, ms) };
  } finally {
    await worker?.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}

async function nestThroughput(url: string, admin: Redis, n: number): Promise<Run> {
  let seen = 0;
  let lastSeen = 0;
  let errors = 0;
  return withNest(
    url,
    admin,
    {
      onEvent: (data) => {
        if (typeof data.orderId === 'string') seen++;
        lastSeen = now();
      },
    },
    async (client) => {
      const orders = Array.from({ length: n }, (_, i) => makeOrder(i, 'pn'));
      const t0 = now();
      for (let b = 0; b < n; b += EMIT_CHUNK) {
        for (let i = b; i < Math.min(n, b + EMIT_CHUNK); i++)
          client.emit(NEST_CHANNEL, orders[i]).subscribe({ error: () => errors++ });
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      let before = -1;
      let quietSince = now();
      while (seen < n) {
        if (seen !== before) {
          before = seen;
          quietSince = now();
        } else if (now() - quietSince > QUIET_MS) break;
        await sleep(5);
      }
      if (errors) throw new Error(`Nest: ${errors} emit errors`);
      const ms = Math.max(1, lastSeen - t0);
      return { events: n, seen, lost: n - seen, ms: Math.round(ms), perSec: rate(seen, ms) };
    },
  );
}

/** The platform's transport: emit() flat out as the Nest side does; every event must arrive (durable). */
async function transportThroughput(url: string, ns: string, n: number): Promise<Run> {
  let seen = 0;
  let errors = 0;
  const s = signal(Math.max(60_000, n), () => `transport handler saw ${seen} of ${n}`);
  return withTransport(
    url,
    ns,
    {
      onEvent: (data) => {
        if (typeof data.orderId === 'string' && ++seen === n) s.done();
      },
    },
    async (client) => {
      const orders = Array.from({ length: n }, (_, i) => makeOrder(i, 'pt'));
      const t0 = now();
      for (let b = 0; b < n; b += EMIT_CHUNK) {
        for (let i = b; i < Math.min(n, b + EMIT_CHUNK); i++)
          client.emit(NEST_CHANNEL, orders[i]).subscribe({ error: () => errors++ });
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      await s.wait;
      const ms = now() - t0;
      if (errors) throw new Error(`transport: ${errors} emit errors`);
      return { events: n, seen, lost: 0, ms: Math.round(ms), perSec: rate(seen, ms) };
    },
  );
}

// ---- latency ----

interface Recorder {
  sent: Map<string, number>;
  samples: number[];
  received: number;
  warmupUntil: number;
}

const newRecorder = (): Recorder => ({ sent: new Map(), samples: [], received: 0, warmupUntil: Infinity });

function received(rec: Recorder, orderId: string): void {
  const t0 = rec.sent.get(orderId);
  if (t0 === undefined) return;
  rec.sent.delete(orderId);
  rec.received++;
  if (t0 >= rec.warmupUntil) rec.samples.push(now() - t0);
}

/** `ratePerSec` events/s for WARMUP_MS + `seconds` on a 1 ms timer, drift-corrected; then waits for stragglers. */
async function paced(
  rec: Recorder,
  ratePerSec: number,
  seconds: number,
  send: (order: OrderProps) => void,
): Promise<Lat> {
  const perMs = ratePerSec / 1000;
  const total = Math.round(perMs * (WARMUP_MS + seconds * 1000));
  const start = now();
  rec.warmupUntil = start + WARMUP_MS;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor((now() - start) * perMs));
      while (sent < due) {
        const order = makeOrder(sent++, 'pl');
        rec.sent.set(order.orderId, now());
        send(order);
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const ms = now() - start;
  await waitUntil('all latency events received', () => rec.received >= sent, 5000, 5).catch(() => undefined);
  return {
    sent,
    measured: rec.samples.length,
    lost: sent - rec.received,
    achievedPerSec: Math.round((sent * 1000) / ms),
    stats: latencyStats(rec.samples),
  };
}

async function libLatency(
  lib: LibModule,
  url: string,
  group: string,
  ratePerSec: number,
  seconds: number,
): Promise<Lat> {
  const rec = newRecorder();
  let errors = 0;
  const app = await lib.createLibApp({
    url,
    namespace: LIB_LAT_NS,
    group,
    consumer: { startFrom: 'new' },
    sink: { onEvent: (payload) => received(rec, payload.orderId) },
  });
  try {
    await sleep(50);
    const run = await paced(rec, ratePerSec, seconds, (order) => {
      app.publisher.publish(lib.toEvent(order)).catch(() => errors++);
    });
    if (errors) throw new Error(`library latency: ${errors} publish errors`);
    return run;
  } finally {
    await app.close();
  }
}

async function bullLatency(url: string, name: string, ratePerSec: number, seconds: number): Promise<Lat> {
  const connection = { ...redisOptions(url), maxRetriesPerRequest: null };
  const rec = newRecorder();
  let errors = 0;
  const queue = new Queue(name, { connection, prefix: BULL_PREFIX });
  const worker = new Worker(
    name,
    async (job) => {
      received(rec, (job.data as OrderProps).orderId);
    },
    { connection, prefix: BULL_PREFIX, concurrency: BULL_CONCURRENCY },
  );
  try {
    await worker.waitUntilReady();
    await queue.waitUntilReady();
    await sleep(50);
    const run = await paced(rec, ratePerSec, seconds, (order) => {
      queue.add(NEST_CHANNEL, order, { removeOnComplete: true }).catch(() => errors++);
    });
    if (errors) throw new Error(`BullMQ latency: ${errors} add errors`);
    return run;
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}

/**
 * Latency through a ClientProxy: `withClient` starts a listening microservice whose handler calls
 * the sink, and a connected client; events are emitted on the paced timer.
 */
async function emitLatency(
  what: string,
  withClient: (sink: Sink, fn: (client: ClientProxy) => Promise<Lat>) => Promise<Lat>,
  ratePerSec: number,
  seconds: number,
): Promise<Lat> {
  const rec = newRecorder();
  let errors = 0;
  return withClient({ onEvent: (data) => received(rec, data.orderId) }, async (client) => {
    await sleep(50);
    const run = await paced(rec, ratePerSec, seconds, (order) => {
      client.emit(NEST_CHANNEL, order).subscribe({ error: () => errors++ });
    });
    if (errors) throw new Error(`${what} latency: ${errors} emit errors`);
    return run;
  });
}

const nestLatency = (url: string, admin: Redis, ratePerSec: number, seconds: number): Promise<Lat> =>
  emitLatency('Nest', (sink, fn) => withNest(url, admin, sink, fn), ratePerSec, seconds);

const transportLatency = (url: string, ns: string, ratePerSec: number, seconds: number): Promise<Lat> =>
  emitLatency('transport', (sink, fn) => withTransport(url, ns, sink, fn), ratePerSec, seconds);

// ---- the phase ----

/** Deletes every key of the phase (library namespaces and BullMQ prefix all start with `peers`). */
async function deletePrefixed(admin: Redis): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', 'peers*', 'COUNT', 1000);
    cursor = next;
    if (keys.length) deleted += await admin.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

export async function benchPeers(
  url: string,
  o: { events: number; repeat: number; ratePerSec: number; seconds: number },
  lib: LibModule | Error,
): Promise<PeersPhase> {
  const admin = new Redis(url);
  const n = o.events;
  const result: PeersPhase = {
    events: n,
    repeat: o.repeat,
    ratePerSec: o.ratePerSec,
    seconds: o.seconds,
    bullConcurrency: BULL_CONCURRENCY,
    emitChunk: EMIT_CHUNK,
    orders: [],
    throughput: { library: [], bullmq: [], nest: [], transport: [] },
    latency: { library: [], bullmq: [], nest: [], transport: [] },
    failures: [],
  };
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      log(`peers: ${what} failed: ${message}`);
      result.failures.push(`${what}: ${message}`);
      return undefined;
    }
  };
  try {
    const sides = PEERS.filter((p) => (p !== 'library' && p !== 'transport') || !(lib instanceof Error));
    if (lib instanceof Error) result.error = `library not loadable: ${lib.message.split('\n')[0]}`;
    const warm = Math.min(2000, n);
    log(`peers: prefill ${n} + ${warm} for the library, warm-up of each side (${warm} events)`);
    await prefill(admin, streamKey(LIB_NS), n, 'pk');
    await prefill(admin, streamKey(LIB_WARM_NS), warm, 'pw');
    const throughput = (side: Peer, tag: string, events: number): Promise<Run> => {
      if (side === 'library')
        return libThroughput(
          lib as LibModule,
          admin,
          url,
          tag === 'warm' ? LIB_WARM_NS : LIB_NS,
          `peers-lib-${tag}`,
          events,
        );
      if (side === 'bullmq') return bullThroughput(url, `orders-${tag}`, events);
      if (side === 'transport') return transportThroughput(url, `${TRANSPORT_NS}-${tag}`, events);
      return nestThroughput(url, admin, events);
    };
    for (const side of sides) await attempt(`warm-up ${side}`, () => throughput(side, 'warm', warm));
    await admin.del(streamKey(LIB_WARM_NS));

    for (let r = 1; r <= o.repeat; r++) {
      const order = sides.map((_, i) => sides[(i + r - 1) % sides.length]);
      result.orders.push(order);
      log(`peers: round ${r}/${o.repeat}, consume ${n} events: ${order.join(' > ')}`);
      for (const side of order) {
        const run = await attempt(`throughput ${side} round ${r}`, () => throughput(side, String(r), n));
        if (run) result.throughput[side].push({ ...run, round: r });
      }
    }
    await admin.del(streamKey(LIB_NS));

    for (let r = 1; r <= o.repeat; r++) {
      const order = sides.map((_, i) => sides[(i + r - 1) % sides.length]);
      log(`peers: round ${r}/${o.repeat}, latency at ${o.ratePerSec}/s for ${o.seconds} s: ${order.join(' > ')}`);
      for (const side of order) {
        const run = await attempt(`latency ${side} round ${r}`, () =>
          side === 'library'
            ? libLatency(lib as LibModule, url, `peers-lat-${r}`, o.ratePerSec, o.seconds)
            : side === 'bullmq'
              ? bullLatency(url, `orders-lat-${r}`, o.ratePerSec, o.seconds)
              : side === 'transport'
                ? transportLatency(url, `${TRANSPORT_NS}-lat-${r}`, o.ratePerSec, o.seconds)
                : nestLatency(url, admin, o.ratePerSec, o.seconds),
        );
        if (run) result.latency[side].push({ ...run, round: r });
      }
    }
    return result;
  } finally {
    await deletePrefixed(admin).catch(() => undefined);
    result.leftoverKeys = await admin
      .scan('0', 'MATCH', 'peers*', 'COUNT', 100_000)
      .then(([, keys]) => keys.length)
      .catch(() => undefined);
    admin.disconnect();
  }
}
