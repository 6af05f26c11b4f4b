import type { RetryPolicy } from '../consumer/retry-policy';
import type { ConsumerStats } from '../consumer/group-reader';
import type { ConsumerTuning } from '../interfaces/event-bus-options.interface';

/** One stream entry as a raw subscription receives it: not decoded, not validated, not deduplicated. */
export interface RawEntry {
  /** The logical stream name, as given in `streams`. */
  stream: string;
  /** `'event'`: an entry of the stream itself; `'dead-letter'`: an entry of its dead-letter stream. */
  kind: 'event' | 'dead-letter';
  /** The Redis key it was read from (`<ns>:{<stream>}` or `<ns>:{<stream>}:dlq`). */
  key: string;
  entryId: string;
  /** Field/value pairs, as XREADGROUP returns them. */
  fields: string[];
  /** 1 the first time; more after a restart, a claim or a retry of its batch. */
  deliveryCount: number;
}

/** Handles one batch; the batch is acknowledged once the returned promise resolves, retried when it rejects. */
export type RawBatchHandler = (batch: RawEntry[]) => Promise<void> | void;

/** Consumer tuning of a raw subscription; unset fields come from the root module's `consumer` options. */
export interface RawSubscriptionTuning extends Pick<
  ConsumerTuning,
  'batchSize' | 'blockMs' | 'shutdownTimeoutMs' | 'claimTimeoutMs' | 'claimIntervalMs' | 'deadConsumerIdleMs'
> {
  /**
   * Backoff between attempts of a failing batch. A batch is retried until it is handled (it is
   * never dead-lettered), so `maxAttempts` does not apply.
   * @default { initialDelayMs: 200, maxDelayMs: 30000, multiplier: 2, jitter: 0.2 }
   */
  retry?: Omit<RetryPolicy, 'maxAttempts' | 'shouldRetry'>;
}

/** `RawSubscriptions.subscribe()`: a consumer group that receives every entry of some streams, as batches. */
export interface RawSubscriptionOptions {
  /** The consumer group; one raw subscription or one set of `@Subscribe` handlers per group and process. */
  group: string;
  /** Logical stream names (`orders`, not the key); at least one. */
  streams: string[];
  /** Also read each stream's dead-letter stream (`<ns>:{<stream>}:dlq`), as entries of kind `'dead-letter'`. @default false */
  deadLetters?: boolean;
  /** Where the group starts on a key where it does not exist yet: `'beginning'` or `'new'`. @default the root `consumer.startFrom`, else 'beginning' */
  startFrom?: 'beginning' | 'new';
  /** Batch size, block time, claim timeout, shutdown and retry timing. @default the root module's `consumer` options */
  consumer?: RawSubscriptionTuning;
  /**
   * Receives the entries of one read (or one claim) across keys, oldest first per key, at most
   * `batchSize` of each key (XREADGROUP's COUNT holds per key); one batch at a time. Resolving acknowledges the whole batch; throwing retries it with backoff
   * (it stays pending meanwhile, and at shutdown). Should be idempotent: after a crash or a claim,
   * entries may arrive again.
   */
  handle: RawBatchHandler;
}

/** A running raw subscription. */
export interface RawSubscription {
  readonly group: string;
  readonly stats: Readonly<ConsumerStats>;
  /** Entries read and not yet acknowledged or given up. */
  readonly inFlight: number;
  /** Whether the read loop is running and came back from Redis recently. */
  isAlive(maxSilenceMs?: number): boolean;
  /**
   * Stops reading, finishes the batches already read (waiting at most `shutdownTimeoutMs`; a batch
   * still failing or unfinished stays pending for a restart or a claim), acknowledges what was
   * handled. Also done at application shutdown.
   */
  stop(): Promise<void>;
}
