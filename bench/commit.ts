import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Redis from 'ioredis';
import type { ChainableCommander } from 'ioredis';
import { CONSUME_BATCH, prefill, redisCpuUs } from './consume';
import { DERIVED_STREAM, DERIVED_TYPE, OrderProps, paymentOf, streamKey } from './events';
import { quantile } from './guard';
import { LibModule, log, now, pendingCount, rate, waitUntil } from './util';

/**
 * Phase: consume, change state and publish in one step. Per consumed OrderPlaced, one derived
 * PaymentSucceeded (another stream) and one `HINCRBY`, three ways, interleaved (the order rotates
 * every repetition) over one prefilled stream, a fresh group per run:
 *   plain   a @Subscribe handler awaiting `publisher.publish()` then `HINCRBY`, acked by the
 *           library's batched XACK: not atomic;
 *   commit  a @Subscribe handler awaiting `ctx.commit((tx) => tx.hincrby(...), { publish })`: the
 *           writes, the event, the dedupe marker and the XACK in one MULTI;
 *   raw     an ioredis XREADGROUP COUNT 500 loop, one MULTI (XADD + HINCRBY + XACK) per entry,
 *           a batch's MULTIs in one pipeline, the next XREADGROUP behind it; no dedupe.
 * Library consumers: batch 500, validate=false on the consumed side (the publisher validates the
 * derived event), the dedupe guard on (the library default). A run is timed from its first
 * entry in hand (the raw loop's first reply; the library's first handler call, so Nest's boot is
 * left out) until every event was handled, the state and the derived stream hold N, and nothing
 * is pending; Node's CPU over the same span, redis-server's over the whole run.
 */

export type CommitVariant = 'plain' | 'commit' | 'raw';
export const COMMIT_VARIANTS: readonly CommitVariant[] = ['plain', 'commit', 'raw'];

export interface CommitRun {
  perSec: number;
  ms: number;
  /** CPU per event, us: this process (user + system) and redis-server (INFO cpu). */
  nodeUs: number;
  redisUs: number;
  /** write(2) calls of this process per event (Linux /proc/self/io `syscw`): how the commands reached the socket. */
  writesPerEvent?: number;
  /** Library only: from app start until its first handler call, ms. */
  bootMs?: number;
}

export interface CommitPhase {
  events: number;
  concurrency: number;
  batchSize: number;
  repeat: number;
  /** Every run of each variant, in repetition order. */
  runs: Record<CommitVariant, CommitRun[]>;
  /** The order of each repetition. */
  orders: CommitVariant[][];
  error?: string;
}

export async function benchCommit(
  url: string,
  n: number,
  repeat: number,
  concurrency: number,
  lib: LibModule | Error,
): Promise<CommitPhase> {
  const result: CommitPhase = {
    events: n,
    concurrency,
    batchSize: CONSUME_BATCH,
    repeat,
    runs: { plain: [], commit: [], raw: [] },
    orders: [],
  };
  if (lib instanceof Error) return { ...result, error: String(lib) };
  const admin = new Redis(url);
  const ns = 'commit';
  const warmNs = 'commit-warm';
  try {
    log(`commit: prefill ${n} + warm-up`);
    await prefill(admin, streamKey(ns), n, 'k');
    await prefill(admin, streamKey(warmNs), 5000, 'kw');
    for (const variant of COMMIT_VARIANTS) {
      await runVariant(variant, lib, admin, { url, ns: warmNs, group: `warm-${variant}`, n: 5000, concurrency });
      await clearOutputs(admin, warmNs, `warm-${variant}`);
    }
    await admin.del(streamKey(warmNs));
    for (let r = 1; r <= repeat; r++) {
      // NOTE: the order rotates, so each variant runs first, second and third as often (3 repetitions: once each).
      const order = COMMIT_VARIANTS.map((_, i) => COMMIT_VARIANTS[(i + r - 1) % COMMIT_VARIANTS.length]);
      result.orders.push(order);
      const line: string[] = [];
      for (const variant of order) {
        const group = `${variant}-${r}`;
        const run = await runVariant(variant, lib, admin, { url, ns, group, n, concurrency });
        result.runs[variant].push(run);
        line.push(
          `${variant} ${run.perSec} ev/s (node ${run.nodeUs.toFixed(1)} + redis ${run.redisUs.toFixed(1)} us/ev, ${run.writesPerEvent?.toFixed(2) ?? '-'} writes/ev)`,
        );
        // NOTE: every run starts from the same Redis: no derived stream, no state, no dedupe markers left.
        await clearOutputs(admin, ns, group);
      }
      log(`commit: run ${r}/${repeat}, ${n} events each: ${line.join(', ')}`);
    }
    return result;
  } catch (error) {
    return { ...result, error: String(error) };
  } finally {
    await clearOutputs(admin, ns, '').catch(() => undefined);
    await admin.del(streamKey(ns), streamKey(warmNs)).catch(() => undefined);
    admin.disconnect();
  }
}

interface RunOptions {
  url: string;
  ns: string;
  group: string;
  n: number;
  concurrency: number;
}

const stateKey = (ns: string, group: string): string => `${ns}:state:${group}`;

async function runVariant(variant: CommitVariant, lib: LibModule, admin: Redis, o: RunOptions): Promise<CommitRun> {
  const run = variant === 'raw' ? await rawStep(admin, o) : await libStep(lib, admin, variant, o);
  // NOTE: each side must have done all of its work exactly once, or its rate means nothing.
  const [state, derived] = await Promise.all([
    admin.hget(stateKey(o.ns, o.group), 'n'),
    admin.xlen(streamKey(o.ns, DERIVED_STREAM)),
  ]);
  if (Number(state) !== o.n || derived !== o.n)
    throw new Error(`commit ${variant} ${o.group}: state n = ${state}, ${derived} derived events, want ${o.n} each`);
  return run;
}

async function clearOutputs(admin: Redis, ns: string, group: string): Promise<void> {
  const keys = [
    streamKey(ns, DERIVED_STREAM),
    ...(await admin.keys(`${ns}:state:*`)),
    ...(await admin.keys(`${ns}:*:seen:*`)),
  ];
  await admin.del(...keys);
  if (group) await admin.xgroup('DESTROY', streamKey(ns), group).catch(() => undefined);
}

/** A library consumer with the step handler, from its first handler call until all is handled and acked. */
async function libStep(lib: LibModule, admin: Redis, mode: 'plain' | 'commit', o: RunOptions): Promise<CommitRun> {
  let count = 0;
  let t0 = 0;
  let cpu0: NodeJS.CpuUsage | undefined;
  let writes0: number | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const redis0 = await redisCpuUs(admin);
  const started = now();
  const app = await lib.createLibApp({
    url: o.url,
    namespace: o.ns,
    group: o.group,
    consumer: {
      batchSize: CONSUME_BATCH,
      concurrency: o.concurrency,
      validate: false,
      blockMs: 1000,
      startFrom: 'beginning',
    },
    step: {
      mode,
      stateKey: stateKey(o.ns, o.group),
      begin: () => {
        if (cpu0 !== undefined) return;
        t0 = now();
        cpu0 = process.cpuUsage();
        writes0 = writeCalls();
      },
      done: () => {
        if (++count === o.n) resolveDone();
      },
    },
  });
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
                  `commit ${mode}: handled ${count} of ${o.n} in ${timeoutMs} ms (stats ${JSON.stringify(app.stats())})`,
                ),
              ),
            timeoutMs,
          )),
      ),
    ]).finally(() => clearTimeout(timer));
    await waitUntil(
      `group ${o.group} pending = 0`,
      async () => (await pendingCount(admin, streamKey(o.ns), o.group)) === 0,
      30_000,
      1,
    );
    const ms = now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const writesPerEvent = perEvent(writes0, writeCalls(), o.n);
    const redisUs = ((await redisCpuUs(admin)) - redis0) / o.n;
    const stats = app.stats();
    if (stats && (stats.failed > 0 || stats.deadLettered > 0))
      throw new Error(`commit ${mode}: ${stats.failed} failed, ${stats.deadLettered} dead-lettered`);
    return {
      perSec: rate(o.n, ms),
      ms: Math.round(ms),
      nodeUs: (cpu.user + cpu.system) / o.n,
      redisUs,
      writesPerEvent,
      bootMs: Math.round(t0 - started),
    };
  } finally {
    await app.close();
  }
}

type StreamReply = Array<[key: string, entries: Array<[id: string, fields: string[]]>]>;

/** XREADGROUP COUNT 500; per entry one MULTI (XADD of the derived event, HINCRBY, XACK), a batch's MULTIs in one pipeline. */
async function rawStep(admin: Redis, o: RunOptions): Promise<CommitRun> {
  const key = streamKey(o.ns);
  const derivedKey = streamKey(o.ns, DERIVED_STREAM);
  const state = stateKey(o.ns, o.group);
  const reader = new Redis(o.url);
  try {
    await reader.xgroup('CREATE', key, o.group, '0');
    const redis0 = await redisCpuUs(admin);
    let t0 = 0;
    let cpu0: NodeJS.CpuUsage | undefined;
    let writes0: number | undefined;
    let count = 0;
    let lastBatch: Promise<void> = Promise.resolve();
    while (count < o.n) {
      const reply = (await reader.xreadgroup(
        'GROUP',
        o.group,
        'c1',
        'COUNT',
        CONSUME_BATCH,
        'STREAMS',
        key,
        '>',
      )) as StreamReply | null;
      if (!reply) throw new Error(`commit raw: stream ran dry after ${count} of ${o.n}`);
      if (cpu0 === undefined) {
        t0 = now();
        cpu0 = process.cpuUsage();
        writes0 = writeCalls();
      }
      // NOTE: the previous batch's transactions went before this read on the same connection: answered already.
      await lastBatch;
      const entries = reply[0][1];
      // NOTE: one pipeline per batch holding one MULTI ... EXEC per entry: atomic per entry, one socket write per batch.
      // NOTE: ioredis queues MULTI ... EXEC inside a pipeline (its types do not show `multi` there).
      const pipeline = reader.pipeline() as ChainableCommander & { multi(): ChainableCommander };
      for (let k = 0; k < entries.length; k++) {
        const [id, fields] = entries[k];
        const order = JSON.parse(field(fields, 'data') ?? 'null') as OrderProps;
        const eventId = field(fields, 'id')!;
        const derived = derivedFields(order, field(fields, 'correlationid') ?? eventId, eventId);
        pipeline
          .multi()
          .xadd(derivedKey, '*', ...derived)
          .hincrby(state, 'n', 1)
          .xack(key, o.group, id)
          .exec();
        count++;
      }
      lastBatch = pipeline.exec().then((replies) => {
        const failed = (replies ?? []).find(([error]) => error);
        if (!replies || failed)
          throw new Error(`commit raw: a transaction failed: ${String(failed?.[0] ?? 'no reply')}`);
      });
    }
    await lastBatch;
    const pending = await pendingCount(reader, key, o.group);
    if (pending !== 0) throw new Error(`commit raw: ${pending} still pending`);
    const ms = now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const writesPerEvent = perEvent(writes0, writeCalls(), o.n);
    const redisUs = ((await redisCpuUs(admin)) - redis0) / o.n;
    return {
      perSec: rate(o.n, ms),
      ms: Math.round(ms),
      nodeUs: (cpu.user + cpu.system) / o.n,
      redisUs,
      writesPerEvent,
    };
  } finally {
    reader.disconnect();
  }
}

/** This process's write(2) calls so far (Linux only; undefined elsewhere). */
function writeCalls(): number | undefined {
  try {
    return Number(/syscw:\s*(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN);
  } catch {
    return undefined;
  }
}

function perEvent(before: number | undefined, after: number | undefined, n: number): number | undefined {
  return before === undefined || after === undefined || Number.isNaN(before) || Number.isNaN(after)
    ? undefined
    : (after - before) / n;
}

function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** The derived PaymentSucceeded as the library would write it (envelope.ts `encodeEnvelope`, no traceparent). */
function derivedFields(order: OrderProps, correlationId: string, causationId: string): string[] {
  return [
    'specversion',
    '1.0',
    'id',
    randomUUID(),
    'type',
    DERIVED_TYPE,
    'version',
    '1',
    'source',
    'bench-commit',
    'time',
    new Date().toISOString(),
    'datacontenttype',
    'application/json',
    'data',
    JSON.stringify(paymentOf(order)),
    'subject',
    order.orderId,
    'correlationid',
    correlationId,
    'causationid',
    causationId,
  ];
}

/** Median, min and max of each variant, the ratios of the medians and the ratios within each repetition. */
export interface CommitSummary {
  perSec: Record<CommitVariant, { median: number; min: number; max: number }>;
  nodeUs: Record<CommitVariant, number>;
  redisUs: Record<CommitVariant, number>;
  writesPerEvent: Record<CommitVariant, number>;
  ratio: Record<'commitPlain' | 'commitRaw' | 'plainRaw', { ofMedians: number; perRepetition: number[] }>;
}

export function summarizeCommit(c: CommitPhase): CommitSummary | undefined {
  if (COMMIT_VARIANTS.some((v) => c.runs[v].length === 0)) return undefined;
  const stat = (v: CommitVariant): { median: number; min: number; max: number } => {
    const rates = c.runs[v].map((r) => r.perSec);
    return { median: quantile(rates, 0.5), min: Math.min(...rates), max: Math.max(...rates) };
  };
  const perSec = { plain: stat('plain'), commit: stat('commit'), raw: stat('raw') };
  const cpu = (of: 'nodeUs' | 'redisUs' | 'writesPerEvent'): Record<CommitVariant, number> => ({
    plain: quantile(
      c.runs.plain.map((r) => r[of] ?? NaN),
      0.5,
    ),
    commit: quantile(
      c.runs.commit.map((r) => r[of] ?? NaN),
      0.5,
    ),
    raw: quantile(
      c.runs.raw.map((r) => r[of] ?? NaN),
      0.5,
    ),
  });
  const reps = Math.min(...COMMIT_VARIANTS.map((v) => c.runs[v].length));
  const ratio = (a: CommitVariant, b: CommitVariant): { ofMedians: number; perRepetition: number[] } => ({
    ofMedians: perSec[a].median / perSec[b].median,
    perRepetition: Array.from({ length: reps }, (_, i) => c.runs[a][i].perSec / c.runs[b][i].perSec),
  });
  return {
    perSec,
    nodeUs: cpu('nodeUs'),
    redisUs: cpu('redisUs'),
    writesPerEvent: cpu('writesPerEvent'),
    ratio: {
      commitPlain: ratio('commit', 'plain'),
      commitRaw: ratio('commit', 'raw'),
      plainRaw: ratio('plain', 'raw'),
    },
  };
}
