import type { EventBusKeys } from '../utils/keys';
import { compareIds } from '../utils/stream-ids';

const QUALIFIED = /^p(\d{1,4})\/(\d{1,20}-\d{1,20})$/;
const BARE = /^\d{1,20}-\d{1,20}$/;

/** An entry id together with the partition whose key holds it. */
export interface PartitionEntryId {
  partition: number;
  id: string;
}

/**
 * How operators name an entry of a partitioned stream (a stream entry, a pending entry, a dead
 * letter): `p<k>/<entryId>`, since entry ids are only unique within one partition's key. With one
 * partition the bare entry id, exactly as Redis has it.
 */
export function formatPartitionId(keys: EventBusKeys, partition: number, id: string): string {
  return keys.partitioned ? `p${partition}/${id}` : id;
}

/**
 * Reads `p<k>/<entryId>` (k a partition of `keys`) or a bare `<entryId>`, which means partition
 * 0. Undefined for anything else, or for a partition the namespace does not have.
 */
export function parsePartitionId(keys: EventBusKeys, text: string): PartitionEntryId | undefined {
  if (BARE.test(text)) return { partition: 0, id: text };
  const match = QUALIFIED.exec(text);
  if (!match) return undefined;
  const partition = Number(match[1]);
  if (partition >= keys.partitions) return undefined;
  return { partition, id: match[2] };
}

/** Whether `text` is a bare entry id (`<ms>-<seq>`), without a partition. */
export function isBareEntryId(text: string): boolean {
  return BARE.test(text);
}

/**
 * The order of entries merged from several partitions: by entry id, then by partition (entry ids
 * of different partitions are independent and may be equal).
 */
export function comparePartitionIds(a: PartitionEntryId, b: PartitionEntryId): number {
  return compareIds(a.id, b.id) || a.partition - b.partition;
}

/**
 * The XRANGE start of partition `k` for reading, oldest first, what comes after the merged
 * position `after` (ordered as comparePartitionIds): exclusive on partitions up to its own,
 * inclusive beyond it (an equal id there comes later in the merged order).
 */
export function startAfter(after: PartitionEntryId, k: number): string {
  return k <= after.partition ? `(${after.id}` : after.id;
}

/** The XREVRANGE end of partition `k` for reading, newest first, what comes after the merged position `before`. */
export function endBefore(before: PartitionEntryId, k: number): string {
  return k >= before.partition ? `(${before.id}` : before.id;
}
