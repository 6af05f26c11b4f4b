import type { RedisOptions } from 'ioredis';

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
}

export interface EventBusModuleOptions {
  /** A `redis://` / `rediss://` URL, or ioredis options (password, ACL username, TLS...). @default 'redis://127.0.0.1:6379' */
  redis?: string | RedisOptions;
  /** Prefix of every key the bus writes. @default 'eb' */
  namespace?: string;
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
