import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { RedisServer } from '../test/support/redis-server';
import { benchBacklog } from './backlog';
import { benchCluster } from './cluster';
import { benchCommit } from './commit';
import { benchEventStore, renderEventStoreBench } from './event-store';
import { benchConsume } from './consume';
import { benchGuard } from './guard';
import { benchMemory, renderMemoryBench } from './memory';
import { makeOrder } from './events';
import { benchLatency, renderLatencyStages } from './latency';
import type { LatencyPhase } from './latency';
import { benchPeers } from './peers';
import { benchPublish } from './publish';
import { Results, render, verdicts } from './report';
import { cleanupAll, envInt, loadLib, log, now, onCleanup } from './util';

/**
 * Raw ioredis vs the event bus, side by side, on fat OrderPlaced events:
 *   1. publish (pipelined batches, concurrent singles)   2. consume + ack a prefilled stream
 *   3. the dedupe guard's cost, guard on vs off           4. end-to-end latency at a steady rate
 *   5. RSS while draining a large backlog                6. the event store
 *   7. consume, change state and publish in one step (`ctx.commit({ publish })`) against plain publish() and raw MULTIs
 *   8. partitioned streams (`cluster`): one Redis vs a 3-master Redis Cluster with partitions: 16, and P=16 vs P=1 reads (bench/cluster.ts)
 *   9. Redis memory per event of the shop by kind of key (`memory`; bench/memory.ts), BENCH_MEMORY_ORDERS (2000)
 *   10. peers: the library next to a BullMQ Worker and @nestjs/microservices' Redis transport, consume and latency (bench/peers.ts)
 * `npm run bench`. Environment: BENCH_EVENTS (100000), BENCH_BACKLOG (1000000), BENCH_LATENCY_SECONDS (5),
 * BENCH_LATENCY_RATE (1000,10000: the phase runs once per rate of the list), BENCH_CONCURRENCY (64), BENCH_REPEAT (2, best run counts), BENCH_CONSUME_REPEAT (max(BENCH_REPEAT, 5): consume repetitions), BENCH_PUBLISH_REPEAT (max(BENCH_REPEAT, 5): publish rounds, the verdict on the median of their ratios), BENCH_GUARD_EVENTS (50000) and BENCH_GUARD_PAIRS (15): the dedupe guard's on/off pairs,
 * BENCH_COMMIT_EVENTS (20000) and BENCH_COMMIT_REPEAT (3): the commit phase's events per run and repetitions of its three variants,
 * BENCH_CLUSTER_EVENTS (20000), BENCH_CLUSTER_REPEAT (3), BENCH_CLUSTER_PAIRS (5), BENCH_CLUSTER_RATE (1000/s), BENCH_CLUSTER_LATENCY_SECONDS (2): the cluster phase,
 * BENCH_PEERS_EVENTS (20000), BENCH_PEERS_REPEAT (3), BENCH_PEERS_RATE (1000/s), BENCH_PEERS_SECONDS (3): the peers phase,
 * BENCH_DRAIN_VALIDATE (0), BENCH_LIB_CONSUMER (JSON tuning for every library consumer), BENCH_LIB_ROOT (JSON forRoot options, e.g. {"metrics":false}), BENCH_WARN (1: the library's warnings), BENCH_PHASES (publish,consume,guard,commit,latency,backlog,event-store,cluster,peers; e.g. BENCH_PHASES=commit), BENCH_DEBUG (1: tail diagnostics).
 * Runs on its own throwaway redis-server (never the shared one); results also in bench/results/latest.json.
 */

const PHASES = [
  'publish',
  'consume',
  'guard',
  'commit',
  'latency',
  'backlog',
  'event-store',
  'cluster',
  'memory',
  'peers',
] as const;

async function main(): Promise<void> {
  const started = now();
  const events = envInt('BENCH_EVENTS', 100_000);
  const backlog = envInt('BENCH_BACKLOG', 1_000_000);
  const latencySeconds = envInt('BENCH_LATENCY_SECONDS', 5);
  // NOTE: a comma-separated list runs the latency phase once per rate, e.g. 1000,10000.
  const latencyRates = (process.env.BENCH_LATENCY_RATE || '1000,10000').split(',').map((rate) => {
    const value = Number(rate.trim().replace(/_/g, ''));
    if (!Number.isFinite(value) || value <= 0) throw new Error(`BENCH_LATENCY_RATE=${rate} is not a positive number`);
    return Math.floor(value);
  });
  const concurrency = envInt('BENCH_CONCURRENCY', 64);
  const repeat = envInt('BENCH_REPEAT', 2);
  // NOTE: the consume phase's paired on/off comparison wants more than two pairs to take a median of.
  const consumeRepeat = envInt('BENCH_CONSUME_REPEAT', Math.max(repeat, 5));
  // NOTE: the publish verdicts are on the median of per-round ratios: five rounds to take one of.
  const publishRepeat = envInt('BENCH_PUBLISH_REPEAT', Math.max(repeat, 5));
  const guardEvents = envInt('BENCH_GUARD_EVENTS', 50_000);
  const guardPairs = envInt('BENCH_GUARD_PAIRS', 15);
  const commitEvents = envInt('BENCH_COMMIT_EVENTS', 20_000);
  const commitRepeat = envInt('BENCH_COMMIT_REPEAT', 3);
  const clusterEvents = envInt('BENCH_CLUSTER_EVENTS', 20_000);
  const clusterRepeat = envInt('BENCH_CLUSTER_REPEAT', 3);
  const clusterPairs = envInt('BENCH_CLUSTER_PAIRS', 5);
  const clusterRate = envInt('BENCH_CLUSTER_RATE', 1_000);
  const clusterLatencySeconds = envInt('BENCH_CLUSTER_LATENCY_SECONDS', 2);
  const peers = {
    events: envInt('BENCH_PEERS_EVENTS', 20_000),
    repeat: envInt('BENCH_PEERS_REPEAT', 3),
    ratePerSec: envInt('BENCH_PEERS_RATE', 1_000),
    seconds: envInt('BENCH_PEERS_SECONDS', 3),
  };
  const memoryOrders = envInt('BENCH_MEMORY_ORDERS', 2_000);
  const drainValidate = process.env.BENCH_DRAIN_VALIDATE === '1';
  const phases = (process.env.BENCH_PHASES ?? PHASES.join(',')).split(',').map((p) => p.trim());
  for (const p of phases)
    if (!(PHASES as readonly string[]).includes(p)) throw new Error(`unknown phase "${p}" in BENCH_PHASES`);

  log('starting a throwaway redis-server');
  const server = await RedisServer.start();
  onCleanup(() => server.destroy());
  const admin = new Redis(server.url);
  onCleanup(() => admin.disconnect());
  const redisVersion = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? '?';

  const lib = loadLib();
  if (lib instanceof Error) log(`library not loadable, raw side only: ${lib.message.split('\n')[0]}`);

  const results: Results = {
    machine: {
      cpu: cpus()[0]?.model ?? '?',
      cores: cpus().length,
      node: process.version,
      redis: redisVersion,
      platform: `${platform()} ${release()}`,
      totalMemGB: Math.round(totalmem() / 2 ** 30),
    },
    config: {
      BENCH_EVENTS: events,
      BENCH_BACKLOG: backlog,
      BENCH_LATENCY_SECONDS: latencySeconds,
      BENCH_LATENCY_RATE: latencyRates.join(','),
      BENCH_CONCURRENCY: concurrency,
      BENCH_REPEAT: repeat,
      BENCH_PUBLISH_REPEAT: publishRepeat,
      BENCH_CONSUME_REPEAT: consumeRepeat,
      BENCH_GUARD_EVENTS: guardEvents,
      BENCH_GUARD_PAIRS: guardPairs,
      BENCH_COMMIT_EVENTS: commitEvents,
      BENCH_COMMIT_REPEAT: commitRepeat,
      ...(phases.includes('cluster')
        ? {
            BENCH_CLUSTER_EVENTS: clusterEvents,
            BENCH_CLUSTER_REPEAT: clusterRepeat,
            BENCH_CLUSTER_PAIRS: clusterPairs,
            BENCH_CLUSTER_RATE: clusterRate,
            BENCH_CLUSTER_LATENCY_SECONDS: clusterLatencySeconds,
          }
        : {}),
      ...(phases.includes('peers')
        ? {
            BENCH_PEERS_EVENTS: peers.events,
            BENCH_PEERS_REPEAT: peers.repeat,
            BENCH_PEERS_RATE: peers.ratePerSec,
            BENCH_PEERS_SECONDS: peers.seconds,
          }
        : {}),
      BENCH_DRAIN_VALIDATE: drainValidate,
      BENCH_LIB_CONSUMER: process.env.BENCH_LIB_CONSUMER ?? '(library defaults)',
      BENCH_LIB_ROOT: process.env.BENCH_LIB_ROOT ?? '(library defaults)',
      eventDataBytes: Buffer.byteLength(JSON.stringify(makeOrder(0))),
    },
    verdicts: [],
  };

  const between = async (): Promise<void> => {
    await admin.flushall();
  };
  if (phases.includes('publish')) {
    results.publish = await benchPublish(server.url, events, publishRepeat, lib);
    await between();
  }
  if (phases.includes('consume')) {
    results.consume = await benchConsume(server.url, events, concurrency, consumeRepeat, lib);
    await between();
  }
  if (phases.includes('guard')) {
    results.guard = await benchGuard(server.url, guardEvents, guardPairs, concurrency, lib);
    await between();
  }
  if (phases.includes('commit')) {
    results.commit = await benchCommit(server.url, commitEvents, commitRepeat, concurrency, lib);
    await between();
  }
  if (phases.includes('latency')) {
    const latency: LatencyPhase[] = [];
    for (const rate of latencyRates) {
      latency.push(await benchLatency(server.url, rate, latencySeconds, concurrency, lib));
      await between();
    }
    results.latency = latency;
  }
  if (phases.includes('backlog')) {
    results.backlog = await benchBacklog(server.url, backlog, concurrency, drainValidate, !(lib instanceof Error));
    await between();
  }
  if (phases.includes('event-store')) {
    results.eventStore = await benchEventStore(server.url);
    await between();
  }
  if (phases.includes('cluster')) {
    // NOTE: on servers of its own (one redis-server, a 3-master cluster), not on `server`.
    results.cluster = await benchCluster(
      {
        events: clusterEvents,
        repeat: clusterRepeat,
        pairs: clusterPairs,
        latencyRate: clusterRate,
        latencySeconds: clusterLatencySeconds,
      },
      lib,
    );
  }
  if (phases.includes('memory')) {
    results.config.BENCH_MEMORY_ORDERS = memoryOrders;
    results.memory = await benchMemory(server.url, memoryOrders);
    await between();
  }
  if (phases.includes('peers')) {
    results.peers = await benchPeers(server.url, peers, lib);
    await between();
  }
  results.totalSeconds = (now() - started) / 1000;
  results.verdicts = verdicts(results);

  process.stdout.write(render(results) + '\n');
  if (results.latency?.length) process.stdout.write('\n' + renderLatencyStages(results.latency));
  if (results.eventStore) process.stdout.write('\n' + renderEventStoreBench(results.eventStore) + '\n');
  if (results.memory) process.stdout.write('\n' + renderMemoryBench(results.memory) + '\n');
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'latest.json');
  writeFileSync(file, JSON.stringify({ generatedAt: new Date().toISOString(), ...results }, null, 2) + '\n');
  log(`results written to ${file}`);
}

let exiting = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (exiting) return;
    exiting = true;
    log(`${signal}: cleaning up`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

main()
  .catch((error: unknown) => {
    process.exitCode = 1;
    if (exiting) return;
    log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  })
  .finally(async () => {
    await cleanupAll();
    // NOTE: a stray handle (a library timer, a socket) must not keep the bench alive.
    setTimeout(() => process.exit(), 200).unref();
  });
