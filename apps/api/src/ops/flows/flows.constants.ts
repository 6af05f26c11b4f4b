/** The consumer group the flow indexer reads every registered stream and its dead letters with. */
export const FLOW_INDEX_GROUP = 'flow-index';
/** Entries one indexer read takes at most. */
export const FLOW_INDEX_BATCH = 500;
/** Longest pause before the indexer writes a batch again after Redis failed it (the backoff starts at 200 ms). */
export const FLOW_INDEX_RETRY_MAX_MS = 1000;
/** Entries another consumer of `flow-index` left unacknowledged this long (a process that died) are claimed by a live indexer. */
export const FLOW_INDEX_CLAIM_TIMEOUT_MS = 60_000;
/** Longest event id, correlation id or subject the index keeps (longer ones: the entry is skipped, or not indexed by subject). */
export const FLOW_INDEX_MAX_ID_LENGTH = 512;
/** A dead letter's error is cut to this many characters in the index. */
export const FLOW_INDEX_MAX_ERROR_LENGTH = 1000;

/** Events one flow view shows at most (the oldest first). */
export const FLOW_VIEW_LIMIT = 5000;
/** Other flows of a subject listed besides the one shown. */
export const FLOW_VIEW_OTHER_FLOWS = 20;
/** `:id` of `GET /ops/flows/:id`: a correlation id, an event id or a subject. */
export const FLOW_ID_PATTERN = /^[A-Za-z0-9._:@+=~/-]{1,256}$/;
