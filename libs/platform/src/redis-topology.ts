import { Cluster, type ClusterNode, type RedisOptions } from 'ioredis';
import type { RedisConnection } from '@nest-streams/event-bus';

/** Where Redis is, from REDIS_URL (one URL, or a comma-separated list of seeds) and REDIS_CLUSTER. */
export interface RedisTopology {
  cluster: boolean;
  /** The URL (one Redis), or the seeds' URLs (a cluster). */
  urls: string[];
}

export function redisTopology(url: string, cluster: string | undefined): RedisTopology {
  return { cluster: /^true$/i.test(cluster ?? ''), urls: url.split(',').map((u) => u.trim()) };
}

/** Seed nodes and per-node options (user, password, TLS: taken from the first URL) of a cluster. */
function clusterSeeds(urls: string[]): { seeds: ClusterNode[]; nodeOptions: RedisOptions } {
  const parsed = urls.map((u) => new URL(u));
  const first = parsed[0];
  const nodeOptions: RedisOptions = {};
  if (first.username) nodeOptions.username = decodeURIComponent(first.username);
  if (first.password) nodeOptions.password = decodeURIComponent(first.password);
  if (first.protocol === 'rediss:') nodeOptions.tls = {};
  return {
    seeds: parsed.map((u) => ({ host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port || 6379) })),
    nodeOptions,
  };
}

/** What the event bus's `forRoot({ redis })` takes for this topology. */
export function busConnection(topology: RedisTopology): RedisConnection {
  if (!topology.cluster) return topology.urls[0];
  const { seeds, nodeOptions } = clusterSeeds(topology.urls);
  return { cluster: seeds, options: { redisOptions: nodeOptions } };
}

/** BullMQ's connection: its own client (its workers block), a Cluster on a cluster. */
export function bullConnection(topology: RedisTopology): { url: string; maxRetriesPerRequest: null } | Cluster {
  if (!topology.cluster) return { url: topology.urls[0], maxRetriesPerRequest: null };
  const { seeds, nodeOptions } = clusterSeeds(topology.urls);
  return new Cluster(seeds, { redisOptions: { ...nodeOptions, maxRetriesPerRequest: null } });
}

/**
 * BullMQ's key prefix: `<ns>:bull`, and on a cluster `{<ns>}:bull`, the namespace's hash tag (a
 * queue's keys must share a slot; the bus keeps the whole namespace in that one).
 */
export function bullPrefix(namespace: string, topology: RedisTopology): string {
  return topology.cluster ? `{${namespace}}:bull` : `${namespace}:bull`;
}
