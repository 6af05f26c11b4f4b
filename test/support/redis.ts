import { randomBytes } from 'node:crypto';
import Redis, { Cluster, type ClusterNode } from 'ioredis';
import { EventBusKeys, type RedisConnection } from '@nest-streams/event-bus';
import { readTestTopology, type TestTopology } from './topology';

/** The run's topology (REDIS_TEST_TOPOLOGY, REDIS_TEST_PARTITIONS: see topology.ts). */
export function testTopology(): TestTopology {
  return readTestTopology();
}

/** The partition count the specs that run on every topology give the bus (`forRoot({ partitions })`). */
export function testPartitions(): number {
  return testTopology().partitions;
}

function runRedisUrl(): string {
  const url = process.env.REDIS_TEST_URL;
  if (!url) throw new Error('REDIS_TEST_URL is not set: run the tests through jest (global-setup starts redis-server)');
  return url;
}

/**
 * The URL of the run's own redis-server (see global-setup.ts). Standalone topology only: a spec
 * that runs on every topology connects with {@link testBusRedis} / {@link testPlatformEnv}.
 */
export function testRedisUrl(): string {
  const topology = testTopology();
  if (topology.redis !== 'standalone') {
    throw new Error(
      `testRedisUrl() is the standalone server's URL; this run is on ${topology.label}: connect with testBusRedis() or testPlatformEnv()`,
    );
  }
  return runRedisUrl();
}

/** The cluster's seed nodes (cluster topology). */
function testClusterSeeds(): ClusterNode[] {
  return runRedisUrl()
    .split(',')
    .map((u) => {
      const url = new URL(u);
      return { host: url.hostname, port: Number(url.port) };
    });
}

/** What `EventBusModule.forRoot({ redis })` takes for the run's Redis: its URL, or the cluster's seeds. */
export function testBusRedis(): RedisConnection {
  return testTopology().redis === 'cluster' ? { cluster: testClusterSeeds() } : runRedisUrl();
}

/** `forRoot` options of the run's topology: `{ redis, partitions }`. */
export function testBusOptions(): { redis: RedisConnection; partitions: number } {
  return { redis: testBusRedis(), partitions: testPartitions() };
}

/** The platform's environment for the run's topology: REDIS_URL, REDIS_CLUSTER, EVENT_BUS_PARTITIONS. */
export function testPlatformEnv(): Record<'REDIS_URL' | 'REDIS_CLUSTER' | 'EVENT_BUS_PARTITIONS', string> {
  const topology = testTopology();
  return {
    REDIS_URL: runRedisUrl(),
    REDIS_CLUSTER: String(topology.redis === 'cluster'),
    EVENT_BUS_PARTITIONS: String(topology.partitions),
  };
}

/** The key layout the bus uses for `namespace` on the run's topology (cluster hash tag, partitions). */
export function testKeys(namespace: string): EventBusKeys {
  const topology = testTopology();
  return new EventBusKeys(namespace, { cluster: topology.redis === 'cluster', partitions: topology.partitions });
}

/** A key namespace no other test file shares. */
export function testNamespace(label: string): string {
  return `t-${label}-${randomBytes(3).toString('hex')}`;
}

/**
 * A client of the run's Redis for test-side checks: a Redis Cluster client on the cluster
 * topology (commands follow the slots), else a plain client.
 */
export function testRedisClient(): Redis {
  if (testTopology().redis !== 'cluster') return new Redis(runRedisUrl(), { maxRetriesPerRequest: 1 });
  // NOTE: typed as Redis, as the library's createRedis does: a Cluster answers the same commands
  // (their keys in one slot); commands without a key (KEYS, SCAN) reach one node: use keysMatching.
  return new Cluster(testClusterSeeds(), {
    scaleReads: 'master',
    redisOptions: { maxRetriesPerRequest: 1 },
  }) as unknown as Redis;
}

/** KEYS `pattern` over every master (one server on the standalone topology). */
export async function keysMatching(redis: Redis, pattern: string): Promise<string[]> {
  const nodes = (redis as unknown) instanceof Cluster ? (redis as unknown as Cluster).nodes('master') : [redis];
  const found = await Promise.all(nodes.map((node) => node.keys(pattern)));
  return found.flat().sort();
}

/** XLEN of a stream, summed over its partitions. */
export async function streamLength(redis: Redis, namespace: string, stream: string): Promise<number> {
  const lengths = await Promise.all(
    testKeys(namespace)
      .streamKeys(stream)
      .map((key) => redis.xlen(key)),
  );
  return lengths.reduce((a, b) => a + b, 0);
}

/** XLEN of a stream's dead letters, summed over its partitions. */
export async function deadLetterCount(redis: Redis, namespace: string, stream: string): Promise<number> {
  const keys = testKeys(namespace);
  const lengths = await Promise.all(keys.all.map((k) => redis.xlen(keys.deadLetter(stream, k))));
  return lengths.reduce((a, b) => a + b, 0);
}

/** Pending entries of `group` on a stream, summed over its partitions (0 where the group does not exist yet). */
export async function pendingCount(redis: Redis, namespace: string, stream: string, group: string): Promise<number> {
  const counts = await Promise.all(
    testKeys(namespace)
      .streamKeys(stream)
      .map(async (key) => {
        const summary = (await redis
          .xpending(key, group)
          .catch((e: Error) => (/NOGROUP|no such key/i.test(e.message) ? [0] : Promise.reject(e)))) as [
          number,
          ...unknown[],
        ];
        return Number(summary[0]);
      }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

type TestFn = (name: string, fn: jest.ProvidesCallback, timeout?: number) => void;
type DescribeFn = (name: string, fn: () => void) => void;

function skipNote(why: string): string {
  return `[skipped on ${testTopology().label}: ${why}]`;
}

/**
 * `it` where `runs` holds; elsewhere `it.skip`, the topology and `why` in the test's name (and printed).
 * E.g. `itIf(testPartitions() === 1, 'reads the unpartitioned stream key')('...', async () => ...)`.
 */
export function itIf(runs: boolean, why: string): TestFn {
  if (runs) return (name, fn, timeout) => it(name, fn, timeout);
  return (name, fn, timeout) => {
    console.info(`skipped: ${name} ${skipNote(why)}`);
    // NOTE: skipped only on a topology the test cannot run on; the reason (`why`, given at each
    // call site) and the topology are in the test's name and printed above.
    it.skip(`${name} ${skipNote(why)}`, fn, timeout);
  };
}

/** `describe` where `runs` holds; elsewhere `describe.skip`, the topology and `why` in its name (and printed). */
export function describeIf(runs: boolean, why: string): DescribeFn {
  if (runs) return (name, fn) => describe(name, fn);
  return (name, fn) => {
    console.info(`skipped: ${name} ${skipNote(why)}`);
    // NOTE: skipped only on a topology the spec cannot run on; the reason (`why`, given at each
    // call site) and the topology are in the spec's name and printed above.
    describe.skip(`${name} ${skipNote(why)}`, fn);
  };
}

/** Polls until `check` returns true, or fails with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
}
