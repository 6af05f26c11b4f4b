/**
 * The consumer group with which the ops process indexes flows (apps/api FlowIndexer). An
 * observer: retention does not wait for it (PlatformModule passes it as `retentionIgnoresGroups`),
 * so a platform whose ops process is not running still trims its streams.
 */
export const FLOW_INDEX_GROUP = 'flow-index';
