import Redis from 'ioredis';
import { makeOrder, rawFields, streamKey } from './events';
import { LibModule, bestOf, log, now, pool, rate } from './util';

/**
 * Phase 1: raw XADD vs EventPublisher, (a) pipelined batches of 1000 and (b) concurrent singles,
 * 1000 in flight on an auto-pipelining client. Each measurement is repeated `repeat` times,
 * raw and library interleaved, and the best run of each side counts (all runs in the JSON).
 */

export const BATCH = 1000;
export const IN_FLIGHT = 1000;

export interface Throughput {
  events: number;
  ms: number;
  perSec: number;
  /** events/s of every repetition. */
  runs?: number[];
}

export interface PublishPhase {
  repeat: number;
  pipelined: { raw: Throughput; lib?: Throughput; error?: string };
  concurrent: { raw: Throughput; lib?: Throughput; error?: string };
}

type Runner = (count: number, tag: string) => Promise<void>;

async function timed(n: number, label: string, redis: Redis, key: string, run: Runner): Promise<Throughput> {
  await redis.del(key);
  const t0 = now();
  await run(n, label);
  const ms = now() - t0;
  const len = await redis.xlen(key);
  if (len !== n) throw new Error(`${label}: stream has ${len} entries, expected ${n}`);
  await redis.del(key);
  return { events: n, ms: Math.round(ms), perSec: rate(n, ms) };
}

export async function benchPublish(
  url: string,
  n: number,
  repeat: number,
  lib: LibModule | Error,
): Promise<PublishPhase> {
  const admin = new Redis(url);
  const plain = new Redis(url);
  const auto = new Redis(url, { enableAutoPipelining: true });
  const rawKey = streamKey('pub-raw');
  const libKey = streamKey('pub-lib');
  const warm = Math.min(5000, Math.max(1000, Math.floor(n / 10)));
  let app: Awaited<ReturnType<LibModule['createLibApp']>> | undefined;
  try {
    const rawPipelined: Runner = async (count, tag) => {
      for (let start = 0; start < count; start += BATCH) {
        const pipeline = plain.pipeline();
        const end = Math.min(count, start + BATCH);
        for (let i = start; i < end; i++) pipeline.xadd(rawKey, '*', ...rawFields(makeOrder(i, tag)));
        const results = await pipeline.exec();
        if (!results || results.some(([error]) => error)) throw new Error('raw pipeline failed');
      }
    };
    const rawConcurrent: Runner = async (count, tag) => {
      await pool(count, IN_FLIGHT, (i) => auto.xadd(rawKey, '*', ...rawFields(makeOrder(i, tag))));
    };
    let libPipelined: Runner | undefined;
    let libConcurrent: Runner | undefined;
    let libError = lib instanceof Error ? String(lib) : undefined;
    if (!(lib instanceof Error)) {
      try {
        const created = await lib.createLibApp({ url, namespace: 'pub-lib' });
        app = created;
        libPipelined = async (count, tag) => {
          for (let start = 0; start < count; start += BATCH) {
            const end = Math.min(count, start + BATCH);
            const batch = new Array<object>(end - start);
            for (let i = start; i < end; i++) batch[i - start] = lib.toEvent(makeOrder(i, tag));
            await created.publisher.publishMany(batch);
          }
        };
        libConcurrent = (count, tag) =>
          pool(count, IN_FLIGHT, (i) => created.publisher.publish(lib.toEvent(makeOrder(i, tag))));
      } catch (error) {
        libError = String(error);
      }
    }

    // NOTE: an untimed warm-up of every path so both sides are JIT-compiled before the clock starts.
    log(`publish: warm-up`);
    for (const [key, run] of [
      [rawKey, rawPipelined],
      [rawKey, rawConcurrent],
      [libKey, libPipelined],
      [libKey, libConcurrent],
    ] as const) {
      if (!run) continue;
      await run(warm, 'w').catch((error: unknown) => (libError ??= String(error)));
      await admin.del(key);
    }
    const runs: Record<'rp' | 'lp' | 'rc' | 'lc', Throughput[]> = { rp: [], lp: [], rc: [], lc: [] };
    for (let r = 1; r <= repeat; r++) {
      log(`publish: run ${r}/${repeat}, ${n} events each: raw pipelined, publishMany, raw concurrent, publish()`);
      runs.rp.push(await timed(n, `rp${r}`, admin, rawKey, rawPipelined));
      if (libPipelined && !libError)
        runs.lp.push(await timed(n, `lp${r}`, admin, libKey, libPipelined).catch((e: unknown) => fail(e)));
      runs.rc.push(await timed(n, `rc${r}`, admin, rawKey, rawConcurrent));
      if (libConcurrent && !libError)
        runs.lc.push(await timed(n, `lc${r}`, admin, libKey, libConcurrent).catch((e: unknown) => fail(e)));
    }
    function fail(error: unknown): Throughput {
      libError = String(error);
      return { events: 0, ms: 0, perSec: 0 };
    }
    const libBest = (list: Throughput[]): Throughput | undefined =>
      libError || !list.length ? undefined : bestOf(list);
    return {
      repeat,
      pipelined: { raw: bestOf(runs.rp), lib: libBest(runs.lp), error: libError },
      concurrent: { raw: bestOf(runs.rc), lib: libBest(runs.lc), error: libError },
    };
  } finally {
    await app?.close();
    await admin.del(rawKey, libKey).catch(() => undefined);
    for (const client of [admin, plain, auto]) client.disconnect();
  }
}
