/** Where a delivery is on its way through a GroupConsumer, for latency measurements (see bench/latency.ts). */
export type ConsumerStage =
  /** The read batch it came in was returned by XREADGROUP (or claimed from an idle consumer). */
  | 'read'
  /** The dedupe guard's claim of its batch answered (at once when there is nothing to claim). */
  | 'claimed'
  /** Its batch was handed to the dispatcher. */
  | 'released'
  /** Its handler was called. */
  | 'started'
  /** Its handler returned (successfully). */
  | 'handled'
  /** Redis answered the XACK it went out in. */
  | 'acked';

/**
 * An internal, process-wide probe (not public API): when `on` is set, consumers report each
 * stage with the entry ids it concerns, at the moment it happens. Unset, each stage costs one
 * property read.
 */
export const stageProbe: { on?: (stage: ConsumerStage, entryIds: readonly string[]) => void } = {};

/** The entry ids of `items`, for the probe. */
export function entryIdsOf(items: ReadonlyArray<{ entryId: string }>): string[] {
  const ids = new Array<string>(items.length);
  for (let i = 0; i < items.length; i++) ids[i] = items[i].entryId;
  return ids;
}
