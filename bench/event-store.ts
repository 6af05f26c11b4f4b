import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { Decider, Event, EventStore, handleCommand, toStreamName } from '@nest-streams/event-store';
import { RedisServer } from '../test/support/redis-server';
import { envInt, fmt, log, now, table } from './util';

/**
 * The event store (libs/event-store) on its own: loading a long aggregate with and without a
 * snapshot, and appends with an expected version, one event each, sequential and across many
 * aggregates at once. Runs against the redis-server at `url`, in a namespace of its own that it
 * deletes afterwards;
 * `node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/event-store.ts` runs
 * it alone on a throwaway server. Environment: BENCH_ES_EVENTS (100000 events in the long
 * aggregate), BENCH_ES_APPENDS (20000 appends per throughput run), BENCH_ES_REPEAT (3, best run counts).
 */

export interface EventStoreBenchRow {
  measure: string;
  value: number;
  unit: string;
  note?: string;
}

export interface EventStoreBench {
  rows: EventStoreBenchRow[];
  config: Record<string, number | string>;
}

type Deposited = Event<'Deposited', { amount: number; reference: string }>;
interface Balance {
  balance: number;
  count: number;
}

const counter = (snapshotEvery?: number): Decider<Balance, { amount: number }, Deposited> => ({
  initialState: () => ({ balance: 0, count: 0 }),
  decide: (command, state) => ({
    type: 'Deposited',
    data: { amount: command.amount, reference: `ref-${state.count + 1}` },
  }),
  evolve: (state, event) => ({ balance: state.balance + event.data.amount, count: state.count + 1 }),
  snapshot: snapshotEvery ? { every: snapshotEvery, schemaVersion: 1 } : undefined,
});

const deposit = (i: number): Deposited => ({
  type: 'Deposited',
  data: { amount: (i % 100) + 1, reference: `ref-${i}` },
});

async function best<T>(
  repeat: number,
  run: () => Promise<T>,
  score: (t: T) => number,
  lowerIsBetter: boolean,
): Promise<{ best: T; all: number[] }> {
  const results: T[] = [];
  for (let i = 0; i < repeat; i++) results.push(await run());
  const scores = results.map(score);
  const pick = scores.indexOf(lowerIsBetter ? Math.min(...scores) : Math.max(...scores));
  return { best: results[pick], all: scores };
}

export async function benchEventStore(url: string): Promise<EventStoreBench> {
  const events = envInt('BENCH_ES_EVENTS', 100_000);
  const appends = envInt('BENCH_ES_APPENDS', 20_000);
  const repeat = envInt('BENCH_ES_REPEAT', 3);
  // NOTE: auto-pipelining, as the event bus's command connection (which the ledger shares) has it.
  const redis = new Redis(url, { enableAutoPipelining: true });
  const rows: EventStoreBenchRow[] = [];
  const namespace = `bench-es-${randomBytes(3).toString('hex')}`;
  try {
    const store = new EventStore(redis, { namespace });

    log(`event store: filling one aggregate with ${fmt(events)} events (appends of 1000 with expected version)`);
    const long = toStreamName('Bench', 'long');
    const t = now();
    for (let v = 0; v < events; v += 1000) {
      await store.append(
        long,
        Array.from({ length: Math.min(1000, events - v) }, (_, i) => deposit(v + i)),
        { expectedVersion: v },
      );
    }
    rows.push({
      measure: 'append, batches of 1000 events, one aggregate',
      value: Math.round((events * 1000) / (now() - t)),
      unit: 'events/s',
    });
    const memory = /used_memory:(\d+)/.exec(await redis.info('memory'))?.[1];

    const plain = counter();
    const full = await best(
      repeat,
      async () => {
        const began = now();
        const loaded = await store.load(long, plain);
        return { ms: now() - began, loaded };
      },
      (r) => r.ms,
      true,
    );
    if (full.best.loaded.version !== events)
      throw new Error(`loaded ${full.best.loaded.version} events, expected ${events}`);
    rows.push({
      measure: `load ${fmt(events)} events, no snapshot`,
      value: Math.round(full.best.ms),
      unit: 'ms',
      note: `${fmt((events * 1000) / full.best.ms)} events/s; runs ${full.all.map((ms) => fmt(ms)).join(' / ')} ms`,
    });

    const every = 100;
    const tail = every / 2;
    const base = await store.load(long, plain, { asOfVersion: events - tail });
    await store.writeSnapshot(long, { state: base.state, version: base.version, schemaVersion: 1, time: base.time });
    const snapshotted = counter(every);
    const fast = await best(
      Math.max(repeat, 50),
      async () => {
        const began = now();
        const loaded = await store.load(long, snapshotted);
        return { ms: now() - began, loaded };
      },
      (r) => r.ms,
      true,
    );
    if (
      fast.best.loaded.snapshotVersion !== events - tail ||
      JSON.stringify(fast.best.loaded.state) !== JSON.stringify(full.best.loaded.state)
    ) {
      throw new Error('the snapshot load disagrees with the full replay');
    }
    const sorted = [...fast.all].sort((a, b) => a - b);
    rows.push({
      measure: `load ${fmt(events)} events, snapshot + ${tail}-event tail`,
      value: Number(fast.best.ms.toFixed(2)),
      unit: 'ms',
      note: `median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} ms over ${sorted.length} loads (snapshot every ${every}: tail 0-${every - 1}, ${tail} on average)`,
    });

    // Appends with an expected version, one event each.
    let aggregate = 0;
    const appendLoop = async (aggregates: number): Promise<{ perSec: number }> => {
      const names = Array.from({ length: aggregates }, () => toStreamName('Bench', `a${++aggregate}`));
      const each = Math.ceil(appends / aggregates);
      const began = now();
      await Promise.all(
        names.map(async (name) => {
          for (let v = 0; v < each; v++) await store.append(name, deposit(v), { expectedVersion: v });
        }),
      );
      return { perSec: Math.round((each * aggregates * 1000) / (now() - began)) };
    };
    for (const aggregates of [1, 16, 64]) {
      const run = await best(
        repeat,
        () => appendLoop(aggregates),
        (r) => r.perSec,
        false,
      );
      rows.push({
        measure:
          aggregates === 1
            ? 'append 1 event with expected version, sequential'
            : `append 1 event with expected version, ${aggregates} aggregates at once`,
        value: run.best.perSec,
        unit: 'appends/s',
        note: `runs ${run.all.map((x) => fmt(x)).join(' / ')}`,
      });
    }

    // The whole command path: load (snapshot + tail), decide, append, snapshot every 100.
    const decider = counter(every);
    const commandLoop = async (aggregates: number): Promise<{ perSec: number }> => {
      const names = Array.from({ length: aggregates }, () => toStreamName('Bench', `c${++aggregate}`));
      const each = Math.ceil(appends / 2 / aggregates);
      const began = now();
      await Promise.all(
        names.map(async (name) => {
          for (let i = 0; i < each; i++) await handleCommand(store, name, decider, { amount: 1 });
        }),
      );
      return { perSec: Math.round((each * aggregates * 1000) / (now() - began)) };
    };
    for (const aggregates of [1, 64]) {
      const run = await best(
        repeat,
        () => commandLoop(aggregates),
        (r) => r.perSec,
        false,
      );
      rows.push({
        measure: `handleCommand (load + decide + append, snapshot every ${every}), ${aggregates === 1 ? 'sequential' : `${aggregates} aggregates at once`}`,
        value: run.best.perSec,
        unit: 'commands/s',
        note: `runs ${run.all.map((x) => fmt(x)).join(' / ')}`,
      });
    }

    return {
      rows,
      config: {
        BENCH_ES_EVENTS: events,
        BENCH_ES_APPENDS: appends,
        BENCH_ES_REPEAT: repeat,
        eventDataBytes: Buffer.byteLength(JSON.stringify(deposit(events).data)),
        redisUsedMemoryMBAfterFill: memory ? Math.round(Number(memory) / 1048576) : '?',
      },
    };
  } finally {
    await deleteNamespace(redis, namespace).catch(() => undefined);
    redis.disconnect();
  }
}

async function deleteNamespace(redis: Redis, namespace: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

/** The rows as a printed table. */
export function renderEventStoreBench(result: EventStoreBench): string {
  const lines = [
    `Event store: ${Object.entries(result.config)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ')}`,
    table(
      ['measure', 'value', 'unit', 'note'],
      result.rows.map((r) => [r.measure, fmt(r.value, r.unit === 'ms' && r.value < 10 ? 2 : 0), r.unit, r.note ?? '']),
    ),
  ];
  return lines.join('\n');
}

if (require.main === module) {
  (async () => {
    log('starting a throwaway redis-server');
    const server = await RedisServer.start();
    try {
      const redis = new Redis(server.url);
      const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
      redis.disconnect();
      const result = await benchEventStore(server.url);
      process.stdout.write(
        `\nNode ${process.version}, redis-server ${version} (own throwaway server, no persistence)\n${renderEventStoreBench(result)}\n`,
      );
    } finally {
      await server.destroy();
    }
  })().catch((error: unknown) => {
    log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  });
}
