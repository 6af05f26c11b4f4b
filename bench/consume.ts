import Redis from 'ioredis';
import { dataField, makeOrder, rawFields, streamKey } from './events';
import { LibModule, bestOf, log, now, pendingCount, pool, rate, waitUntil } from './util';

/** Phase 2: consume + ack a prefilled stream, raw XREADGROUP loop vs @Subscribe handler. */

type StreamReply = Array<[key: string, entries: Array<[id: string, fields: string[]]>]>;

export const CONSUME_BATCH = 500;

export interface ConsumeRun {
  events: number;
  ms: number;
  perSec: number;
  /** Library only: NestFactory.createApplicationContext until it returned (included in ms). */
  bootMs?: number;
  /** events/s of every repetition (best one reported). */
  runs?: number[];
  /** CPU per event of this process (user + system) and of redis-server, in us, for the run. */
  cpu?: { nodeUs: number; redisUs: number };
}

/** Per-event CPU of every run of one side: medians tell more than throughput on a shared machine. */
export interface CpuSamples {
  nodeUs: number[];
  redisUs: number[];
}

export interface ConsumePhase {
  batchSize: number;
  concurrency: number;
  repeat: number;
  raw: ConsumeRun;
  libNoValidate?: ConsumeRun;
  libValidate?: ConsumeRun;
  /** validate=false with the dedupe guard off: what the guard costs on the happy path. */
  libNoDedupe?: ConsumeRun;
  /** Per-event CPU of every run, by side (raw, lib, lib+validate, lib dedupe off). */
  cpu?: Record<'raw' | 'nv' | 'v' | 'nd', CpuSamples>;
  error?: string;
}

/** redis-server's CPU time so far (user + sys, INFO cpu), microseconds. */
export async function redisCpuUs(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const field = (name: string): number => Number(new RegExp(`${name}:(\\S+)`).exec(info)?.[1] ?? NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

/** Runs one side and stamps the CPU it cost this process and redis-server per event. */
async function withCpu(admin: Redis, n: number, run: () => Promise<ConsumeRun>): Promise<ConsumeRun> {
  const redis0 = await redisCpuUs(admin);
  const node0 = process.cpuUsage();
  const result = await run();
  const node = process.cpuUsage(node0);
  const redis = (await redisCpuUs(admin)) - redis0;
  return { ...result, cpu: { nodeUs: (node.user + node.system) / n, redisUs: redis / n } };
}

function cpuSamples(runs: ConsumeRun[]): CpuSamples {
  return { nodeUs: runs.map((r) => r.cpu?.nodeUs ?? NaN), redisUs: runs.map((r) => r.cpu?.redisUs ?? NaN) };
}

/** Appends n fat events with raw pipelined XADD (batches of 1000, 2 pipelines in flight). */
export async function prefill(redis: Redis, key: string, n: number, tag: string): Promise<void> {
  const batches = Math.ceil(n / 1000);
  await pool(batches, 2, async (b) => {
    const pipeline = redis.pipeline();
    const end = Math.min(n, (b + 1) * 1000);
    for (let i = b * 1000; i < end; i++) pipeline.xadd(key, '*', ...rawFields(makeOrder(i, tag)));
    const results = await pipeline.exec();
    if (!results || results.some(([error]) => error)) throw new Error('prefill pipeline failed');
  });
}

/** XREADGROUP COUNT 500 loop, JSON.parse of `data` per entry, one XACK per batch with all ids. */
export async function rawConsume(
  url: string,
  key: string,
  group: string,
  n: number,
  onEntry?: (data: { orderId: string }) => void,
): Promise<ConsumeRun> {
  const reader = new Redis(url);
  try {
    await reader.xgroup('CREATE', key, group, '0');
    const t0 = now();
    let count = 0;
    let lastAck: Promise<unknown> = Promise.resolve();
    while (count < n) {
      const reply = (await reader.xreadgroup(
        'GROUP',
        group,
        'c1',
        'COUNT',
        CONSUME_BATCH,
        'STREAMS',
        key,
        '>',
      )) as StreamReply | null;
      if (!reply) throw new Error(`raw consumer: stream ran dry after ${count} of ${n}`);
      const entries = reply[0][1];
      const ids = new Array<string>(entries.length);
      for (let k = 0; k < entries.length; k++) {
        ids[k] = entries[k][0];
        const data = JSON.parse(dataField(entries[k][1]) ?? 'null') as { orderId: string };
        onEntry?.(data);
        count++;
      }
      // NOTE: not awaited here: the XACK travels with the next XREADGROUP, like the library's async acks.
      lastAck = reader.xack(key, group, ...ids);
    }
    await lastAck;
    const pending = await pendingCount(reader, key, group);
    if (pending !== 0) throw new Error(`raw consumer: ${pending} still pending`);
    const ms = now() - t0;
    return { events: count, ms: Math.round(ms), perSec: rate(count, ms) };
  } finally {
    reader.disconnect();
  }
}

export interface LibConsumeOptions {
  url: string;
  namespace: string;
  group: string;
  n: number;
  concurrency: number;
  validate: boolean;
  /** @default true (the library's default) */
  dedupe?: boolean;
  /** Called with the running count after each handled event. */
  onEvent?: (count: number) => void;
}

/** A fresh group; from app start until the handler saw n events and the group has nothing pending. */
export async function libConsume(lib: LibModule, admin: Redis, o: LibConsumeOptions): Promise<ConsumeRun> {
  let count = 0;
  let bad = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const t0 = now();
  const app = await lib.createLibApp({
    url: o.url,
    namespace: o.namespace,
    group: o.group,
    consumer: {
      batchSize: CONSUME_BATCH,
      concurrency: o.concurrency,
      validate: o.validate,
      blockMs: 1000,
      startFrom: 'beginning',
      ...(o.dedupe === false ? { dedupe: { enabled: false } } : {}),
    },
    sink: {
      onEvent: (payload) => {
        if (typeof payload.orderId !== 'string') bad++;
        if (++count === o.n) resolveDone();
        o.onEvent?.(count);
      },
    },
  });
  const bootMs = now() - t0;
  try {
    const timeoutMs = Math.max(60_000, o.n / 2);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      done,
      new Promise(
        (_, reject) =>
          (timer = setTimeout(
            () =>
              reject(
                new Error(
                  `library consumer saw ${count} of ${o.n} in ${timeoutMs} ms (stats ${JSON.stringify(app.stats())})`,
                ),
              ),
            timeoutMs,
          )),
      ),
    ]).finally(() => clearTimeout(timer));
    const key = streamKey(o.namespace);
    await waitUntil(
      `group ${o.group} pending = 0`,
      async () => (await pendingCount(admin, key, o.group)) === 0,
      30_000,
      1,
    );
    const ms = now() - t0;
    if (bad) throw new Error(`${bad} payloads without orderId`);
    return { events: count, ms: Math.round(ms), perSec: rate(count, ms), bootMs: Math.round(bootMs) };
  } finally {
    await app.close();
  }
}

export async function benchConsume(
  url: string,
  n: number,
  concurrency: number,
  repeat: number,
  lib: LibModule | Error,
): Promise<ConsumePhase> {
  const admin = new Redis(url);
  const warmNs = 'cons-warm';
  const ns = 'cons';
  const key = streamKey(ns);
  try {
    log(`consume: prefill ${n} + warm-up`);
    await prefill(admin, streamKey(warmNs), 5000, 'cw');
    await prefill(admin, key, n, 'c');
    // NOTE: untimed warm-up of each side on a separate small stream (JIT, Nest bootstrap code paths).
    await rawConsume(url, streamKey(warmNs), 'raw-warm', 5000);
    let libError = lib instanceof Error ? String(lib) : undefined;
    if (!(lib instanceof Error)) {
      await libConsume(lib, admin, {
        url,
        namespace: warmNs,
        group: 'lib-warm',
        n: 5000,
        concurrency,
        validate: true,
      }).catch((e: unknown) => {
        libError = String(e);
      });
    }
    await admin.del(streamKey(warmNs));
    // NOTE: every run is a fresh group over the same prefilled stream; raw and library interleaved, best run counts.
    const runs: Record<'raw' | 'nv' | 'v' | 'nd', ConsumeRun[]> = { raw: [], nv: [], v: [], nd: [] };
    for (let r = 1; r <= repeat; r++) {
      // NOTE: the dedupe on/off pair swaps places every other repetition, so neither side always
      // runs right after the raw loop (or after the other library run).
      const onFirst = r % 2 === 1;
      log(
        `consume: run ${r}/${repeat}, ${n} events each: raw, then ${onFirst ? 'library validate=false, validate=true, dedupe off' : 'library dedupe off, validate=true, validate=false'}`,
      );
      runs.raw.push(await withCpu(admin, n, () => rawConsume(url, key, `raw-${r}`, n)));
      if (libError || lib instanceof Error) continue;
      try {
        const nv = (): Promise<ConsumeRun> =>
          withCpu(admin, n, () =>
            libConsume(lib, admin, { url, namespace: ns, group: `lib-nv-${r}`, n, concurrency, validate: false }),
          );
        const nd = (): Promise<ConsumeRun> =>
          withCpu(admin, n, () =>
            libConsume(lib, admin, {
              url,
              namespace: ns,
              group: `lib-nd-${r}`,
              n,
              concurrency,
              validate: false,
              dedupe: false,
            }),
          );
        if (onFirst) runs.nv.push(await nv());
        else runs.nd.push(await nd());
        runs.v.push(
          await withCpu(admin, n, () =>
            libConsume(lib, admin, { url, namespace: ns, group: `lib-v-${r}`, n, concurrency, validate: true }),
          ),
        );
        if (onFirst) runs.nd.push(await nd());
        else runs.nv.push(await nv());
      } catch (error) {
        libError = String(error);
      }
    }
    return {
      batchSize: CONSUME_BATCH,
      concurrency,
      repeat,
      raw: bestOf(runs.raw),
      libNoValidate: libError || !runs.nv.length ? undefined : bestOf(runs.nv),
      libValidate: libError || !runs.v.length ? undefined : bestOf(runs.v),
      libNoDedupe: libError || !runs.nd.length ? undefined : bestOf(runs.nd),
      cpu: {
        raw: cpuSamples(runs.raw),
        nv: cpuSamples(runs.nv),
        v: cpuSamples(runs.v),
        nd: cpuSamples(runs.nd),
      },
      error: libError,
    };
  } finally {
    await admin.del(key, streamKey(warmNs)).catch(() => undefined);
    admin.disconnect();
  }
}
