import { assertName } from './names';

// cluster-key-slot (the CRC16 ioredis routes commands with) ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const keySlot = require('cluster-key-slot') as (key: string | ArrayLike<number>) => number;

/** The number of Redis Cluster hash slots; every valid partition count divides it. */
export const CLUSTER_SLOTS = 16384;

/** The largest partition count a namespace may have. */
export const MAX_PARTITIONS = 1024;

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Refuses a partition count that is not a power of two from 1 to {@link MAX_PARTITIONS}.
 *
 * A power of two divides the 16384 cluster slots, so `slot mod P` spreads subjects evenly and
 * partition k owns exactly the slots congruent to k.
 *
 * @throws Error naming the value and the rule.
 */
export function assertPartitions(partitions: number): number {
  if (
    !Number.isInteger(partitions) ||
    partitions < 1 ||
    partitions > MAX_PARTITIONS ||
    (partitions & (partitions - 1)) !== 0
  ) {
    throw new Error(
      `partitions must be a power of two from 1 to ${MAX_PARTITIONS} (1, 2, 4, ..., ${MAX_PARTITIONS}), got ${String(partitions)}`,
    );
  }
  return partitions;
}

/**
 * The Redis Cluster hash slot of `key` (0..16383): exactly what `CLUSTER KEYSLOT <key>` answers.
 *
 * The key is hashed as the UTF-8 bytes ioredis sends, and the hash-tag rule is Redis's own
 * (`keyHashSlot` in cluster.c): if the key has a `{` and a later `}` with at least one byte
 * between them, only the bytes between the first `{` and the first `}` after it are hashed;
 * otherwise the whole key is. `cluster-key-slot` 1.1.x gets keys whose first `{` is followed at
 * once by `}` wrong when another `}` comes later (`foo{}{bar}`, `a{}b}`: it hashes `{bar` / `b`,
 * Redis the whole key), so the tag is picked here and only the chosen bytes go to it; for that
 * one shape a plain CRC16 is used.
 */
export function keySlotOf(key: string): number {
  const bytes = Buffer.from(key, 'utf8');
  const open = bytes.indexOf(OPEN_BRACE);
  if (open === -1) return keySlot(bytes);
  const close = bytes.indexOf(CLOSE_BRACE, open + 1);
  if (close === -1) return keySlot(bytes);
  // The tag has no `}`, so cluster-key-slot hashes all of it.
  if (close > open + 1) return keySlot(bytes.subarray(open + 1, close));
  // Empty tag: the whole key, with no second look for a tag.
  return crc16(bytes) % CLUSTER_SLOTS;
}

/**
 * The partition (0..partitions-1) an event belongs to: `CLUSTER KEYSLOT(key) mod partitions`.
 *
 * The partition key is the event's `subject`, or its `id` when it has no subject, so every event
 * (and every copy of it: a resent XADD, a replay, a redrive) about one subject lands in one
 * partition and keeps its order there. Hash tags count: `{ORD-7701}:lines` and `ORD-7701`
 * share a partition. A client in another language computes the same partition with
 * `CLUSTER KEYSLOT <subject>` on any cluster node (or its own CRC16 with the same tag rule),
 * mod the namespace's partition count.
 *
 * @param key the event's subject, else its id
 * @param partitions a power of two from 1 to 1024 (see {@link assertPartitions})
 */
export function partitionOf(key: string, partitions: number): number {
  assertPartitions(partitions);
  return keySlotOf(key) % partitions;
}

/**
 * The hash tag (without braces) that partition `k` of every stream of `namespace` shares:
 * `<ns>/<k>`. Keys embed it as `{<ns>/<k>}`, so all of partition k's keys (the events of
 * each stream, dead letters, dedupe buckets, lease, epoch) sit in one cluster slot and one
 * XREADGROUP, MULTI or Lua call may span them. `/` is outside the name alphabet, so such a tag
 * cannot collide with a stream-name tag.
 *
 * @param namespace the event bus namespace (a valid name)
 * @param k the partition index, a non-negative integer
 */
export function partitionTag(namespace: string, k: number): string {
  assertName('namespace', namespace);
  if (!Number.isInteger(k) || k < 0 || k >= MAX_PARTITIONS) {
    throw new Error(`partition index must be an integer from 0 to ${MAX_PARTITIONS - 1}, got ${String(k)}`);
  }
  return `${namespace}/${k}`;
}

/** CRC16-CCITT (XMODEM), the checksum Redis Cluster's key slots use. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc;
}
