/**
 * The public API of @nest-streams/event-bus: what an application imports. Contract tooling
 * (compatibility checks, AsyncAPI, the catalogue) is at `@nest-streams/event-bus/catalogue`.
 */
export * from './decorators';
export * from './errors';
export * from './interfaces';
export { EventBusModule, EventBusFeatureModule } from './event-bus.module';
export { EventBusCore } from './event-bus.core';
export { EventBusKeys } from './utils/keys';
export type { RedisConnection, ClusterConnection } from './utils/redis-connection';
export { EventPublisher } from './publisher/event-publisher';
export { RawSubscriptions } from './subscriptions/raw-subscriptions.service';
export type {
  RawEntry,
  RawBatchHandler,
  RawSubscription,
  RawSubscriptionOptions,
  RawSubscriptionTuning,
} from './subscriptions/raw-subscription.interface';
export { DeadLetterService, type DeadLetter, type DeadLetterFilter } from './dead-letter/dead-letter.service';
export { GroupAdminService, type GroupInfo, type ConsumerInfo, type PendingEntry } from './ops/group-admin.service';
export { ReplayService, type ReplayRequest, type ReplayResult, type ReplayOptions } from './ops/replay.service';
export {
  DEFAULT_RETENTION_MAX_AGE_MS,
  RetentionService,
  type RetentionPolicy,
  type TrimResult,
} from './ops/retention.service';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './consumer/retry-policy';
export { currentDelivery } from './context/delivery-context';
export { encodeEnvelope, decodeEnvelope } from './envelope/envelope';
export type { FieldError } from './validation/payload-validator';
export type { EventBusMetricsOptions, MetricsRegistry } from './observability/metrics';
export { Upcaster } from './versioning/upcaster.decorator';
export type { EventUpcaster } from './versioning/upcaster-registry';
