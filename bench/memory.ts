import type { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import { fmt, log, pool, sleep, table, waitUntil } from './util';

/**
 * Redis memory per event of the shop: the whole platform app (every service, the operations API,
 * the flow indexer) in this process on the bench's redis-server, in a namespace of its own; a burst
 * of orders over HTTP; once every group has caught up, `MEMORY USAGE` (exact: `SAMPLES 0`) of every
 * key of the namespace (`SCAN`), summed by kind of key.
 */

/** What a key of the namespace is. `bookkeeping` kinds are the platform's own cost per event. */
export const MEMORY_KINDS = [
  { kind: 'events', what: 'the streams: the events themselves', bookkeeping: false },
  { kind: 'dead letters', what: ':dlq, :redrive:, :replay: streams', bookkeeping: false },
  { kind: 'dedupe markers', what: ':seen:<group>:<hour> hashes', bookkeeping: true },
  { kind: 'flow index', what: '<ns>:flow:*', bookkeeping: true },
  { kind: 'bus other', what: 'retention policies, leases, epochs, members', bookkeeping: true },
  { kind: 'service state', what: '<ns>:svc:*', bookkeeping: false },
  { kind: 'BullMQ', what: '<ns>:bull:*', bookkeeping: false },
  { kind: 'other', what: 'anything else of the namespace', bookkeeping: false },
] as const;

export type MemoryKind = (typeof MEMORY_KINDS)[number]['kind'];

/** Bookkeeping over the events' own bytes that passes. */
export const MEMORY_BOOKKEEPING_TARGET = 0.5;

export interface MemoryPhase {
  orders: number;
  /** Entries of the event streams (every partition). */
  events: number;
  seconds: number;
  /** `entries`: stream entries, hash fields, list elements, set members (1 for a string). */
  byKind: Array<{ kind: MemoryKind; keys: number; entries: number; bytes: number }>;
  /** (dedupe markers + flow index + bus other) / events. */
  bookkeepingRatio: number;
  error?: string;
}

export function kindOf(key: string, ns: string): MemoryKind {
  const rest = key.startsWith(`{${ns}}`) ? key.slice(ns.length + 2) : key.startsWith(ns) ? key.slice(ns.length) : key;
  if (!rest.startsWith(':')) return 'other';
  if (rest.startsWith(':flow:')) return 'flow index';
  if (rest.startsWith(':svc:')) return 'service state';
  if (rest.startsWith(':bull:')) return 'BullMQ';
  if (/^:\{[^}]*\}(:\{[^}]*\})?:seen:/.test(rest)) return 'dedupe markers';
  if (/^:\{[^}]*\}(:\{[^}]*\})?:(dlq|redrive:|replay:)/.test(rest)) return 'dead letters';
  if (/^:\{[^}]*\}(:\{[^}]*\})?$/.test(rest)) return 'events';
  if (/^:\{[^}]*\}(:\{[^}]*\})?:(retention|lease:|epoch:|members:)/.test(rest)) return 'bus other';
  return 'other';
}

export async function benchMemory(url: string, orders: number): Promise<MemoryPhase> {
  const started = Date.now();
  const ns = 'bench-memory';
  const redis = new Redis(url);
  let app: INestApplication | undefined;
  const env: Record<string, string> = {
    REDIS_URL: url,
    REDIS_CLUSTER: 'false',
    EVENT_BUS_NAMESPACE: ns,
    PORT: '0',
    LOG_LEVEL: process.env.BENCH_DEBUG === '1' ? 'warn' : 'error',
    OPS_RATE_LIMIT: '1000000',
  };
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  try {
    Object.assign(process.env, env);
    log(`memory: starting the platform app in namespace ${ns}`);
    const { createApp } = await import('../apps/api/src/bootstrap');
    app = await createApp();
    await app.listen(0, '127.0.0.1');
    const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');

    log(`memory: placing ${orders} orders over HTTP`);
    await pool(orders, 32, async (i) => {
      const res = await fetch(`${base}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          userId: `user-${i % 200}`,
          email: `user-${i % 200}@example.com`,
          items: [{ sku: 'SKU-MUG', quantity: 1 }],
        }),
      });
      if (res.status !== 201) throw new Error(`POST /orders answered ${res.status}: ${await res.text()}`);
    });

    log('memory: waiting until every group has caught up');
    let quiet = 0;
    let last = '';
    await waitUntil(
      'every group caught up',
      async () => {
        const state = await groupsState(redis, ns);
        // NOTE: caught up and unchanged for a few polls: a handler may still publish what it caused.
        quiet = state.caughtUp && state.signature === last ? quiet + 1 : 0;
        last = state.signature;
        return quiet >= 5;
      },
      300_000,
      200,
    );
    await sleep(500);

    const totals = new Map<MemoryKind, { keys: number; entries: number; bytes: number }>(
      MEMORY_KINDS.map((k) => [k.kind, { keys: 0, entries: 0, bytes: 0 }]),
    );
    let events = 0;
    for await (const batch of redis.scanStream({ match: `*${ns}*`, count: 1000 })) {
      for (const key of batch as string[]) {
        const kind = kindOf(key, ns);
        const bytes = Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
        const t = totals.get(kind)!;
        t.keys++;
        t.bytes += Number.isFinite(bytes) ? bytes : 0;
        const entries = await entriesOf(redis, key);
        t.entries += entries;
        if (kind === 'events') events += entries;
      }
    }
    const byKind = MEMORY_KINDS.map((k) => ({ kind: k.kind, ...totals.get(k.kind)! }));
    const bytesOf = (kind: MemoryKind): number => totals.get(kind)!.bytes;
    const bookkeeping = MEMORY_KINDS.filter((k) => k.bookkeeping).reduce((s, k) => s + bytesOf(k.kind), 0);
    return {
      orders,
      events,
      seconds: (Date.now() - started) / 1000,
      byKind,
      bookkeepingRatio: bookkeeping / Math.max(1, bytesOf('events')),
    };
  } catch (error) {
    log(`memory phase failed: ${error instanceof Error ? error.message : String(error)}`);
    return {
      orders,
      events: 0,
      seconds: (Date.now() - started) / 1000,
      byKind: [],
      bookkeepingRatio: NaN,
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    await app?.close().catch(() => undefined);
    redis.disconnect();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** Entries of a key by its type. */
async function entriesOf(redis: Redis, key: string): Promise<number> {
  const type = await redis.type(key);
  if (type === 'stream') return redis.xlen(key);
  if (type === 'hash') return redis.hlen(key);
  if (type === 'list') return redis.llen(key);
  if (type === 'zset') return redis.zcard(key);
  if (type === 'set') return redis.scard(key);
  return type === 'none' ? 0 : 1;
}

/** Every group of every stream of the namespace at the stream's last entry with nothing pending. */
async function groupsState(redis: Redis, ns: string): Promise<{ caughtUp: boolean; signature: string }> {
  let caughtUp = true;
  const parts: string[] = [];
  for await (const batch of redis.scanStream({ match: `${ns}:{*`, type: 'stream', count: 1000 })) {
    for (const key of batch as string[]) {
      const [newest] = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
      parts.push(`${key}=${newest?.[0] ?? '-'}`);
      if (!newest) continue;
      const groups = (await redis.xinfo('GROUPS', key)) as Array<Array<string | number>>;
      for (const row of groups) {
        const g: Record<string, string | number> = {};
        for (let i = 0; i + 1 < row.length; i += 2) g[String(row[i])] = row[i + 1];
        if (g['last-delivered-id'] !== newest[0] || Number(g.pending) > 0) caughtUp = false;
      }
    }
  }
  return { caughtUp, signature: parts.sort().join(',') };
}

/** The phase's own table: bytes per event and per order by kind of key. */
export function renderMemoryBench(m: MemoryPhase): string {
  if (m.error) return `memory: failed: ${m.error}`;
  const perEvent = (b: number): string => fmt(b / Math.max(1, m.events), 0);
  const perOrder = (b: number): string => fmt(b / Math.max(1, m.orders), 0);
  const events = m.byKind.find((k) => k.kind === 'events')?.bytes ?? 0;
  const rows = m.byKind.map((k) => [
    k.kind + (MEMORY_KINDS.find((d) => d.kind === k.kind)?.bookkeeping ? ' *' : ''),
    fmt(k.keys),
    fmt(k.entries),
    fmt(k.bytes),
    k.entries > 0 ? fmt(k.bytes / k.entries, 0) : '-',
    perEvent(k.bytes),
    perOrder(k.bytes),
    events > 0 ? fmt(k.bytes / events, 2) : '-',
  ]);
  const bookkeeping = m.byKind
    .filter((k) => MEMORY_KINDS.find((d) => d.kind === k.kind)?.bookkeeping)
    .reduce((s, k) => s + k.bytes, 0);
  rows.push([
    'bookkeeping (*)',
    '',
    '',
    fmt(bookkeeping),
    '',
    perEvent(bookkeeping),
    perOrder(bookkeeping),
    fmt(m.bookkeepingRatio, 2),
  ]);
  return [
    `memory: ${fmt(m.orders)} orders over HTTP, ${fmt(m.events)} events (${fmt(m.events / Math.max(1, m.orders), 1)} an order), MEMORY USAGE ... SAMPLES 0 over SCAN, ${fmt(m.seconds, 1)} s`,
    table(['kind of key', 'keys', 'entries', 'bytes', 'B/entry', 'B/event', 'B/order', 'x events'], rows),
  ].join('\n');
}
