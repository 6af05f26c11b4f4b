/** BullMQ queue the replay jobs run on. */
export const REPLAY_QUEUE = 'replays';
/** CloudEvents `source` of events published through `POST /ops/events`. */
export const OPS_SOURCE = 'ops-api';
/** `ServiceStore` name of the operations API's own keys (`<ns>:svc:ops:...`). */
export const OPS_SERVICE = 'ops';

/** Stream, group and consumer names: the alphabet the library allows in keys. */
export const NAME_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;
/** A complete stream entry id. */
export const ENTRY_ID_PATTERN = /^\d{1,20}-\d{1,20}$/;
/** An entry id as the API shows entries of partitioned streams (`p<k>/<ms>-<seq>`), or a bare complete entry id. */
export const PARTITION_ENTRY_ID_PATTERN = /^(p\d{1,4}\/)?\d{1,20}-\d{1,20}$/;
/** A stream id, complete or just milliseconds. */
export const STREAM_ID_PATTERN = /^\d{1,20}(-\d{1,20})?$/;
/** Short machine-readable dead-letter reasons. */
export const REASON_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

/** Entries one listing request reads at most while filtering, so a filter cannot scan a whole stream. */
export const ENTRY_SCAN_LIMIT = 10_000;
/** Jobs kept per final state. */
export const REPLAYS_KEPT = 200;
/** How often a running replay looks for a cancellation. */
export const CANCEL_POLL_MS = 50;
/** How often a running replay writes its progress. */
export const PROGRESS_EVERY_MS = 100;
