import Redis, { Cluster, ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';

const DEFAULT_URL = 'redis://127.0.0.1:6379';

/** Redis Cluster: seed nodes (any of the masters or replicas; one is enough) and ioredis Cluster options. */
export interface ClusterConnection {
  cluster: ClusterNode[];
  options?: ClusterOptions;
}

/** What `forRoot({ redis })` takes: a URL, ioredis options, or a cluster. */
export type RedisConnection = string | RedisOptions | ClusterConnection;

/** Whether `client` is a Redis Cluster client (see createRedis). */
export function isCluster(client: Redis): boolean {
  return (client as unknown) instanceof Cluster;
}

export function isClusterConnection(redis: RedisConnection | undefined): redis is ClusterConnection {
  return typeof redis === 'object' && redis !== null && Array.isArray((redis as ClusterConnection).cluster);
}

/**
 * Opens an ioredis client from a URL, options or a cluster's seeds. `overrides` tune it for its
 * role (a blocking reader must not share a socket with commands that expect quick answers); on a
 * cluster they apply to each node's connection, and commands follow the cluster's redirections
 * (MOVED, ASK, a failover) to the master that owns their slot.
 */
export function createRedis(redis: RedisConnection | undefined, name: string, overrides: RedisOptions = {}): Redis {
  const base: RedisOptions = { connectionName: name, ...overrides };
  if (redis === undefined || typeof redis === 'string') return new Redis(redis ?? DEFAULT_URL, base);
  if (isClusterConnection(redis)) {
    const { enableAutoPipelining, lazyConnect, ...perNode } = base;
    const cluster = new Cluster(redis.cluster, {
      scaleReads: 'master',
      // NOTE: a failover takes 2-4 s to settle; ioredis's default retries give up sooner.
      retryDelayOnFailover: 300,
      ...redis.options,
      enableAutoPipelining,
      lazyConnect,
      redisOptions: { ...redis.options?.redisOptions, ...perNode },
    });
    // NOTE: typed as Redis: a Cluster answers the same commands, pipelines and scripts (their keys
    // in one slot); the few connection-level calls that differ check isCluster() first.
    return cluster as unknown as Redis;
  }
  return new Redis({ ...redis, ...base });
}

/**
 * Closes politely, falling back to disconnect when the server is gone. A client waiting to
 * reconnect is not ended by `disconnect()` (ioredis 5 only clears its timer: the commands it
 * queued while offline would wait forever, and whoever awaits them, e.g. a consumer loop at
 * shutdown): those are failed here.
 */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  const reconnecting = client.status !== 'ready';
  try {
    await Promise.race([
      client.quit(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('quit timeout')), 1000)),
    ]);
    if (!reconnecting) return;
  } catch {
    // NOTE: no answer to QUIT: the server is gone.
  }
  // NOTE: between connections, QUIT "succeeds" without an answer and leaves what was sent or queued pending.
  client.disconnect();
  const flush = (client as unknown as { flushQueue?(error: Error): void }).flushQueue;
  if (flush) flush.call(client, new Error('Connection is closed.'));
}
