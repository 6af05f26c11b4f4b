import type { ConsumerTuning, PartitioningOptions } from '../interfaces/event-bus-options.interface';
import type { EventBusMetricsOptions } from '../observability/metrics';
import type { RedisConnection } from '../utils/redis-connection';
import type { PatternRouter } from './pattern-route';

/** What both ends of the transport must agree on with each other and with the library's apps. */
export interface RedisStreamsOptions {
  /** What `EventBusModule.forRoot({ redis })` takes: a URL, ioredis options, or a cluster. @default 'redis://127.0.0.1:6379' */
  redis?: RedisConnection;
  /** Prefix of every key, the library's `namespace` (the same as the apps the transport talks to). @default 'eb' */
  namespace?: string;
  /** Partitions of every stream, the library's `partitions` (the same in every process of the namespace). @default 1 */
  partitions?: number;
  /** Maps a pattern to its stream and event type; give clients and servers the same one. @default defaultPatternRouter */
  route?: PatternRouter;
  /** Spans and `traceparent` through `@opentelemetry/api`, as the library's. @default true */
  tracing?: boolean;
  /**
   * The library's Prometheus instruments on `registry` (the application's: the one it scrapes, e.g.
   * `EventBusCore.metrics.registry`), with `prefix` and `processMetrics`; none without it.
   * @default false
   */
  metrics?: EventBusMetricsOptions | false;
}

/** `new ServerRedisStreams(options)`. */
export interface RedisStreamsServerOptions extends RedisStreamsOptions {
  /** The service's consumer group: every service gets every event, its instances share them. */
  group: string;
  /** CloudEvents `source` of events the handlers publish with `ctx.getEventContext().commit()`. @default the group */
  source?: string;
  /** This instance's consumer name; keep it stable per instance. @default '<hostname>-<pid>' */
  consumerName?: string;
  /** Reading, retries, claiming, dedupe and drain: the library's `consumer` options. @default the library's defaults */
  consumer?: ConsumerTuning;
  /** Lease timings when `partitions > 1`. @default { leaseMs: 10000, heartbeatMs: 1000, sessionTimeoutMs: 10000 } */
  partitioning?: PartitioningOptions;
}

/** `new ClientRedisStreams(options)`, or `ClientsModule.register([{ name, customClass: ClientRedisStreams, options }])`. */
export interface RedisStreamsClientOptions extends RedisStreamsOptions {
  /** CloudEvents `source` of the events it emits. @default 'nest-client' */
  source?: string;
  /** How long `emit()` and `send()` may wait for Redis to take the write before they fail with `PublishFailedError`. @default 1000 */
  publishTimeoutMs?: number;
  /** How long `send()` waits for a complete reply before it fails with `RequestTimeoutError`. @default 30000 */
  requestTimeoutMs?: number;
}
