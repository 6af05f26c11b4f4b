import { RedisCluster } from './redis-cluster';
import { RedisServer } from './redis-server';
import { readTestTopology, TEST_CLUSTER_MASTERS } from './topology';

declare global {
  var __REDIS_SERVER__: RedisServer | RedisCluster | undefined;
}

/**
 * Starts the run's Redis: one throwaway redis-server, or with REDIS_TEST_TOPOLOGY=cluster a local
 * 3-master Redis Cluster (see topology.ts). Workers find it in REDIS_TEST_URL (the cluster: its
 * nodes, comma-separated).
 */
export default async function globalSetup(): Promise<void> {
  const topology = readTestTopology();
  const server =
    topology.redis === 'cluster'
      ? await RedisCluster.start({ masters: TEST_CLUSTER_MASTERS })
      : await RedisServer.start();
  globalThis.__REDIS_SERVER__ = server;
  process.env.REDIS_TEST_URL = server.url;
  if (topology.label !== 'standalone P=1') process.stdout.write(`\nTest topology: ${topology.label} (${server.url})\n`);
}
