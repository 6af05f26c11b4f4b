import type { RetryPolicy } from '../consumer/retry-policy';

/** Options of one `@Subscribe` binding. */
export interface SubscribeOptions {
  /** The consumer group; overrides @ConsumerGroup and the module's forFeature group. */
  group?: string;
  /** Validate the payload before the handler sees it. @default the group's `consumer.validate` */
  validate?: boolean;
  /** Retry policy of this handler, over the group's. */
  retry?: RetryPolicy;
}
