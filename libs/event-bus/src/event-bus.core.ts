import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { hostname } from 'node:os';
import type Redis from 'ioredis';
import {
  DEFAULT_CLAIM_INTERVAL_MS,
  DEFAULT_CLAIM_TIMEOUT_MS,
  DEFAULT_DEAD_CONSUMER_IDLE_MS,
  DEFAULT_DEDUPE_TTL_MS,
  DEFAULT_BATCH_SIZE,
  DEFAULT_BLOCK_MS,
  DEFAULT_CONCURRENCY,
  DEFAULT_NAMESPACE,
  DEFAULT_PUBLISH_TIMEOUT_MS,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_LEASE_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_SESSION_TIMEOUT_MS,
} from './event-bus.constants';
import { EVENT_BUS_MODULE_OPTIONS } from './event-bus-module-definition';
import type {
  ConsumerTuning,
  DedupeOptions,
  EventBusModuleOptions,
  PartitioningOptions,
} from './interfaces/event-bus-options.interface';
import { ResolvedRetryPolicy, resolveRetryPolicy } from './consumer/retry-policy';
import { createEventBusMetrics, type EventBusMetrics } from './observability/metrics';
import { EventBusKeys } from './utils/keys';
import { assertName } from './utils/names';
import { closeRedis, createRedis, isClusterConnection } from './utils/redis-connection';
import { TransactionBatcher } from './publisher/transaction-batcher';
import { ReplicationWaiter } from './publisher/replication-waiter';
import { OnceWriter, type EntryWrite } from './publisher/once-writer';
import { PublishFailedError } from './errors/publish-failed.error';
import { withConsumerScripts } from './consumer/consumer-scripts';
import { withDedupeCommands } from './consumer/dedupe.guard';

let busesInProcess = 0;

export type ResolvedTuning = Required<Omit<ConsumerTuning, 'retry' | 'dedupe'>> & {
  retry: ResolvedRetryPolicy;
  dedupe: Required<DedupeOptions>;
};

/**
 * The bus's shared state in one application: options, key layout, the command connection
 * (publishes, acks, dead letters) and the process's consumer identity.
 */
@Injectable()
export class EventBusCore implements OnApplicationShutdown {
  private readonly logger = new Logger(EventBusCore.name);
  readonly keys: EventBusKeys;
  /** The command connection: one Redis, or a Redis Cluster client (`cluster`). */
  readonly redis: Redis;
  /** True on Redis Cluster (`forRoot({ redis: { cluster } })`). */
  readonly cluster: boolean;
  /** This process's consumer name in every group. */
  readonly consumerName: string;
  /** The bus's Prometheus instruments: absent with `metrics: false`, and by default when prom-client is not installed. */
  readonly metrics?: EventBusMetrics;
  /** Transactions (outbox publishes, commits) of one event-loop turn, sent in one pipeline. */
  readonly transactions: TransactionBatcher;
  /** Replicas a publish waits for (`publishWait`); undefined when it waits for none. */
  readonly replication?: ReplicationWaiter;
  /**
   * Plain publishes on one Redis: their own connection, which never resends an unanswered write
   * by itself (see OnceWriter). Undefined on a cluster, where publishes use the command connection.
   */
  readonly writer?: OnceWriter;
  /** Replicas the writer's publishes wait for (`publishWait`): WAIT on the connection that sent them. */
  readonly writerReplication?: ReplicationWaiter;
  private readonly readers = new Set<Redis>();
  /** Per connection, resolves at its next 'ready' (shared by every caller of writable()). */
  private readonly ready = new Map<Redis, Promise<void>>();
  /** Publishes sent again after a cluster redirection refused them (they had not run). */
  redirectRetries = 0;

  constructor(@Inject(EVENT_BUS_MODULE_OPTIONS) readonly options: EventBusModuleOptions) {
    this.cluster = isClusterConnection(options.redis);
    this.keys = new EventBusKeys(options.namespace ?? DEFAULT_NAMESPACE, {
      cluster: this.cluster,
      partitions: options.partitions ?? 1,
    });
    this.metrics = createEventBusMetrics(options.metrics);
    busesInProcess++;
    this.consumerName = assertName(
      'consumer name',
      options.consumerName ?? `${hostname()}-${process.pid}${busesInProcess > 1 ? `-${busesInProcess}` : ''}`,
    );
    this.redis = createRedis(options.redis, `event-bus:${this.consumerName}`, {
      enableAutoPipelining: true,
      lazyConnect: true,
      // NOTE: bounded: a publish while Redis is away fails after this many reconnect attempts
      // (at most ~1 s apart) instead of waiting in an unbounded offline queue.
      maxRetriesPerRequest: options.publishRetries ?? 3,
      retryStrategy: (times: number) => Math.min(times * 100, 1000),
    });
    this.redis.on('error', (error: Error) => this.logger.warn(`redis: ${error.message}`));
    this.transactions = new TransactionBatcher(this.redis, this.cluster);
    if (!this.cluster) {
      const publishing = createRedis(options.redis, `event-bus-publish:${this.consumerName}`, {
        // NOTE: the OnceWriter pipelines each turn's writes itself (see there why not auto-pipelining).
        lazyConnect: true,
        maxRetriesPerRequest: options.publishRetries ?? 3,
        retryStrategy: (times: number) => Math.min(times * 100, 1000),
        // NOTE: a write unanswered when the connection drops is searched for, not resent blindly.
        autoResendUnfulfilledCommands: false,
      });
      publishing.on('error', (error: Error) => this.logger.warn(`redis (publishing): ${error.message}`));
      this.writer = new OnceWriter(publishing, this.logger);
    }
    const wait = options.publishWait;
    if (wait && wait.replicas > 0) {
      const policy = {
        replicas: wait.replicas,
        timeoutMs: wait.timeoutMs ?? options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS,
      };
      this.replication = new ReplicationWaiter(this.redis, policy, this.cluster);
      if (this.writer) this.writerReplication = new ReplicationWaiter(this.writer.redis, policy);
    }
    // NOTE: every script the library calls is defined before the first command: a command defined
    // while an auto-pipelined batch is open is missing from that batch, and calling it there shifts
    // every later reply of the batch to the wrong caller (ioredis 5).
    withConsumerScripts(this.redis);
    withDedupeCommands(this.redis);
  }

  /** Resolves true once `redis` (the command connection by default) is up, or false after `timeoutMs`. */
  writable(timeoutMs: number, redis = this.redis): Promise<boolean> {
    if (redis.status === 'ready') return Promise.resolve(true);
    if (redis.status === 'wait') redis.connect().catch(() => undefined);
    // NOTE: one 'ready' listener for every caller waiting (publishes pile up while Redis is away).
    let ready = this.ready.get(redis);
    if (!ready) {
      ready = new Promise<void>((resolve) =>
        redis.once('ready', () => {
          this.ready.delete(redis);
          resolve();
        }),
      );
      this.ready.set(redis, ready);
    }
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      ready.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]).finally(() => clearTimeout(timer));
  }

  /**
   * Appends each entry at most once through the OnceWriter (one Redis only: `writer` is set):
   * waits at most `timeoutMs` for its connection (then fails with nothing sent), and fails a write
   * unanswered by then. Rejects with PublishFailedError naming the writes' event ids.
   */
  appendOnce(writes: EntryWrite[], timeoutMs: number): Promise<string[]> {
    const writer = this.writer!;
    const at = Date.now() + timeoutMs;
    const timeout = (): Error =>
      new Error(
        `no answer from Redis within ${timeoutMs} ms (the write may have landed, once: it is never written twice)`,
      );
    const asFailure = (error: unknown): PublishFailedError =>
      new PublishFailedError(
        writes.map((w) => w.id),
        error,
      );
    if (writer.redis.status === 'ready') return writer.write(writes, at, timeout, asFailure);
    return this.writable(timeoutMs, writer.redis).then((up) => {
      if (!up) throw asFailure(new Error(`Redis is not reachable (waited ${timeoutMs} ms, nothing was sent)`));
      return writer.write(writes, at, timeout, asFailure);
    });
  }

  /** Lease and membership timings of partitioned groups. */
  get partitioning(): Required<PartitioningOptions> {
    const p = this.options.partitioning ?? {};
    return {
      leaseMs: p.leaseMs ?? DEFAULT_LEASE_MS,
      heartbeatMs: p.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
      sessionTimeoutMs: p.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS,
    };
  }

  /** A dedicated connection for one consumer's blocking reads (`name`: the group, and its partition when partitioned). */
  createReader(group: string, name = this.consumerName): Redis {
    const reader = createRedis(this.options.redis, `event-bus:${group}:${name}`, {
      maxRetriesPerRequest: null,
      retryStrategy: (times: number) => Math.min(times * 100, 1000),
    });
    reader.on('error', (error: Error) => this.logger.warn(`redis reader ${group}: ${error.message}`));
    this.readers.add(reader);
    return reader;
  }

  async closeReader(reader: Redis): Promise<void> {
    this.readers.delete(reader);
    await closeRedis(reader);
  }

  tuning(overrides: ConsumerTuning = {}): ResolvedTuning {
    const root = this.options.consumer ?? {};
    return {
      batchSize: overrides.batchSize ?? root.batchSize ?? DEFAULT_BATCH_SIZE,
      blockMs: overrides.blockMs ?? root.blockMs ?? DEFAULT_BLOCK_MS,
      concurrency: overrides.concurrency ?? root.concurrency ?? DEFAULT_CONCURRENCY,
      startFrom: overrides.startFrom ?? root.startFrom ?? 'beginning',
      validate: overrides.validate ?? root.validate ?? true,
      shutdownTimeoutMs: overrides.shutdownTimeoutMs ?? root.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
      retry: resolveRetryPolicy(root.retry, overrides.retry),
      claimTimeoutMs: overrides.claimTimeoutMs ?? root.claimTimeoutMs ?? DEFAULT_CLAIM_TIMEOUT_MS,
      claimIntervalMs: overrides.claimIntervalMs ?? root.claimIntervalMs ?? DEFAULT_CLAIM_INTERVAL_MS,
      deadConsumerIdleMs: overrides.deadConsumerIdleMs ?? root.deadConsumerIdleMs ?? DEFAULT_DEAD_CONSUMER_IDLE_MS,
      dedupe: {
        enabled: overrides.dedupe?.enabled ?? root.dedupe?.enabled ?? true,
        ttlMs: overrides.dedupe?.ttlMs ?? root.dedupe?.ttlMs ?? DEFAULT_DEDUPE_TTL_MS,
      },
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.readers].map((reader) => closeRedis(reader)));
    this.readers.clear();
    if (this.writer) {
      // NOTE: publishes still in flight settle first (each within its deadline).
      await this.writer.drain();
      await closeRedis(this.writer.redis);
    }
    await closeRedis(this.redis);
  }
}
