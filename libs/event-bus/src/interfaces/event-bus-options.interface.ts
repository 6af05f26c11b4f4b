import type { RedisConnection } from '../utils/redis-connection';
import type { RetryPolicy } from '../consumer/retry-policy';
import type { EventBusMetricsOptions } from '../observability/metrics';

/** Consumer tuning; every field may be set on the root module and overridden per feature. */
export interface ConsumerTuning {
  /** Entries fetched by one XREADGROUP. @default 100 */
  batchSize?: number;
  /** How long one XREADGROUP blocks waiting for entries, in ms. @default 2000 */
  blockMs?: number;
  /** Handlers running at once in one consumer (entries of one subject never run concurrently). @default 32 */
  concurrency?: number;
  /** Where a group that does not exist yet starts: `'beginning'` (nothing published before is missed) or `'new'`. @default 'beginning' */
  startFrom?: 'beginning' | 'new';
  /** Validate payloads against their contract before a handler sees them. @default true */
  validate?: boolean;
  /** How long shutdown waits for in-flight handlers before leaving their entries pending. @default 10000 */
  shutdownTimeoutMs?: number;
  /** Retries with backoff of a failing handler, then the dead-letter stream. @default { maxAttempts: 5, initialDelayMs: 200, maxDelayMs: 30000, multiplier: 2, jitter: 0.2 } */
  retry?: RetryPolicy;
  /** An entry pending this long in a consumer that stopped renewing it is claimed by a live one, in ms. @default 30000 */
  claimTimeoutMs?: number;
  /** How often each consumer looks for entries to claim, in ms. @default 5000 */
  claimIntervalMs?: number;
  /** A consumer owning nothing and idle this long is removed from the group, in ms. @default 900000 */
  deadConsumerIdleMs?: number;
  /** The dedupe guard per (group, event id). @default { enabled: true, ttlMs: 86400000 } */
  dedupe?: DedupeOptions;
}

export interface PartitioningOptions {
  /** How long a (group, partition) lease lasts without renewal, in ms: how soon a dead instance's partitions move. @default 10000 */
  leaseMs?: number;
  /** How often an instance renews its leases and heartbeat and rebalances, in ms. @default 1000 */
  heartbeatMs?: number;
  /** An instance silent this long leaves the group's membership, in ms. @default 10000 */
  sessionTimeoutMs?: number;
}

export interface DedupeOptions {
  /** @default true */
  enabled?: boolean;
  /** How long a handled event id is remembered, in ms. @default 86400000 (24 h) */
  ttlMs?: number;
}

export interface EventBusModuleOptions {
  /**
   * A `redis://` / `rediss://` URL, ioredis options (password, ACL username, TLS...), or a Redis
   * Cluster: `{ cluster: [{ host, port }, ...], options?: ClusterOptions }` (seed nodes; one is
   * enough). On a cluster every key of the namespace shares one hash slot (see EventBusKeys).
   * @default 'redis://127.0.0.1:6379'
   */
  redis?: RedisConnection;
  /** Prefix of every key the bus writes. @default 'eb' */
  namespace?: string;
  /**
   * How many partitions every stream of the namespace has: a power of two from 1 to 1024. An
   * event goes to partition `CLUSTER KEYSLOT(subject ?? id) mod partitions`. With more than one,
   * the instances of a group share the partitions: at most one owns a (group, partition) at a
   * time (a lease with an epoch), so a subject's events are handled in order across instances,
   * and on Redis Cluster the partitions spread over the masters. Fixed per namespace: every
   * process of a namespace must use the same value. @default 1
   */
  partitions?: number;
  /** Leases and membership of partitioned groups (used when `partitions > 1`). */
  partitioning?: PartitioningOptions;
  /** `source` of events published outside any feature module (CloudEvents `source`). @default 'app' */
  source?: string;
  /** Consumer tuning defaults. */
  consumer?: ConsumerTuning;
  /** Start consuming at application bootstrap. Set false for publish-only processes. @default true */
  consume?: boolean;
  /**
   * This process's consumer name in every group. Keep it stable across restarts of one instance
   * (e.g. a StatefulSet pod name) so a restarted instance reads back its own pending entries first.
   * @default `<hostname>-<pid>` (and `-<n>` for the n-th bus in one process)
   */
  consumerName?: string;
  /** How many times a publish is retried while Redis is unreachable before it fails. @default 3 */
  publishRetries?: number;
  /**
   * How long a publish may wait for Redis, in ms. When the connection is not up, the publish
   * waits at most this long for it and then fails with PublishFailedError without having sent
   * anything; a write already sent when the connection drops fails after this long too (it may
   * have landed). @default 1000
   */
  publishTimeoutMs?: number;
  /**
   * Durability of publishes: a publish (and an outbox write, and a handler's `commit()`) resolves
   * only once `replicas` replicas have the write (Redis `WAIT`, shared by the publishes of one
   * event-loop turn), and fails with PublishFailedError when fewer confirm it within `timeoutMs`:
   * the write is then on the primary only, and a failover before it replicates would lose it.
   * `WAIT` holds the command connection while it waits (sub-millisecond on a healthy link).
   * @default { replicas: 0 } (resolve once the primary has it)
   */
  publishWait?: { replicas: number; /** @default publishTimeoutMs */ timeoutMs?: number };
  /** How often this process applies the streams' retention policies, in ms; 0 never. @default 60000 */
  retentionIntervalMs?: number;
  /**
   * The retention of every stream without a policy of its own: entries older than this, in ms,
   * are trimmed by the periodic retention once every group has acknowledged them (a stream's own
   * policy, set through RetentionService, replaces it). 0 keeps entries forever.
   * @default 604800000 (7 days)
   */
  retentionMaxAgeMs?: number;
  /**
   * Groups whose position does not hold retention back: observers (an indexer, an audit tap)
   * that would rather miss entries trimmed before they read them than keep a stream from ever
   * being trimmed while they are not running. docs/contract.md section 4 leaves trimming what a group
   * has not acknowledged to an operator: set it from operator configuration, not as a default.
   * @default []
   */
  retentionIgnoresGroups?: string[];
  /**
   * Prometheus instruments on a registry of this bus: `core.metrics.registry`. They need
   * prom-client, an optional peer dependency: left out, metrics are on when prom-client is
   * installed and off otherwise; given options, prom-client must be installed. `false` turns
   * them off. @default {} when prom-client is installed (a new Registry, prefix `eventbus_`)
   */
  metrics?: EventBusMetricsOptions | false;
  /**
   * Spans and `traceparent` propagation through @opentelemetry/api, an optional peer dependency:
   * they are on while an OpenTelemetry SDK is registered, and nothing is loaded or done without
   * @opentelemetry/api installed. @default true
   */
  tracing?: boolean;
}

/** `EventBusModule.forFeature()`: one service of the process, its consumer group and its publisher identity. */
export interface EventBusFeatureOptions {
  /** The consumer group of the handlers declared in this module (one per service). */
  group: string;
  /** `source` of the events this module publishes. @default the group name */
  source?: string;
  /** Consumer tuning for this group, over the root defaults. */
  consumer?: ConsumerTuning;
}
