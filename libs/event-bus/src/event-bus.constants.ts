export const EVENT_CONTRACT_METADATA = 'event-bus:contract';
export const EVENT_SUBSCRIBER_METADATA = 'event-bus:subscriber';
export const EVENT_CONSUMER_GROUP_METADATA = 'event-bus:consumer-group';
export const EVENT_PUBLISH_RESULT_METADATA = 'event-bus:publish-result';

export const EVENT_BUS_FEATURE_OPTIONS = Symbol('EVENT_BUS_FEATURE_OPTIONS');
export const EVENT_BUS_CONNECTION = Symbol('EVENT_BUS_CONNECTION');

export const CLOUDEVENTS_SPEC_VERSION = '1.0';
export const JSON_CONTENT_TYPE = 'application/json';

export const DEFAULT_NAMESPACE = 'eb';
export const DEFAULT_BATCH_SIZE = 100;
export const DEFAULT_BLOCK_MS = 2000;
export const DEFAULT_CONCURRENCY = 32;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
export const DEFAULT_CLAIM_TIMEOUT_MS = 30_000;
export const DEFAULT_CLAIM_INTERVAL_MS = 5_000;
export const DEFAULT_DEAD_CONSUMER_IDLE_MS = 15 * 60_000;
export const DEFAULT_DEDUPE_TTL_MS = 24 * 60 * 60_000;
export const DEFAULT_PUBLISH_TIMEOUT_MS = 1_000;

/** A partition lease lasts this long without renewal. */
export const DEFAULT_LEASE_MS = 10_000;
/** Partition leases and membership heartbeats are renewed this often. */
export const DEFAULT_HEARTBEAT_MS = 1_000;
/** A group member silent this long leaves the membership. */
export const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
