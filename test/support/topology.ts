/**
 * The Redis topology a jest run tests against, chosen by the environment:
 *
 * - `REDIS_TEST_TOPOLOGY`: `standalone` (default: one redis-server) or `cluster` (a local
 *   3-master Redis Cluster, no replicas);
 * - `REDIS_TEST_PARTITIONS`: the bus's partition count, a power of two (default 1).
 *
 * Read by global-setup.ts (which server to start) and by test/support/redis.ts (what the specs
 * connect to). Imports nothing through the `@app/*` aliases: global setup loads it outside the
 * test runtime.
 */
export type TestRedisTopology = 'standalone' | 'cluster';

export interface TestTopology {
  redis: TestRedisTopology;
  partitions: number;
  /** `standalone P=1`, `cluster P=16`, ... */
  label: string;
}

export function readTestTopology(env: NodeJS.ProcessEnv = process.env): TestTopology {
  const redis = (env.REDIS_TEST_TOPOLOGY || 'standalone').trim();
  if (redis !== 'standalone' && redis !== 'cluster') {
    throw new Error(
      `REDIS_TEST_TOPOLOGY must be standalone or cluster, got ${JSON.stringify(env.REDIS_TEST_TOPOLOGY)}`,
    );
  }
  const raw = (env.REDIS_TEST_PARTITIONS || '1').trim();
  const partitions = Number(raw);
  if (!/^\d+$/.test(raw) || partitions < 1 || partitions > 1024 || (partitions & (partitions - 1)) !== 0) {
    throw new Error(
      `REDIS_TEST_PARTITIONS must be a power of two from 1 to 1024, got ${JSON.stringify(env.REDIS_TEST_PARTITIONS)}`,
    );
  }
  return { redis, partitions, label: `${redis} P=${partitions}` };
}

/** Masters of the cluster topology's local cluster. */
export const TEST_CLUSTER_MASTERS = 3;
