import { pairsToRecord } from '../utils/pairs';
import type Redis from 'ioredis';
import type { EventBusKeys } from '../utils/keys';
import { scripted, withConsumerScripts } from '../consumer/consumer-scripts';

/** What Redis says about one consumer group of a stream. */
export interface GroupStats {
  group: string;
  /** Entries not yet delivered to the group; undefined when Redis cannot tell (before 7.0, or after XGROUP SETID to an arbitrary id). */
  lag?: number;
  /** Entries delivered and not yet acknowledged. */
  pending: number;
}

/** What Redis says about one stream of the bus. */
export interface StreamStats {
  stream: string;
  length: number;
  /** Entries in the stream's dead-letter stream. */
  deadLetters: number;
  /** Every group on the stream, this process's or not. */
  groups: GroupStats[];
}

type Reply = [error: Error | null, value: unknown];

/**
 * XLEN of each stream and its dead letters, and XINFO GROUPS, in one pipelined round trip. With
 * partitioned streams, one pipeline per partition (a partition's keys share a cluster slot; two
 * partitions' may not), sent at once, and the partitions' stats summed (see mergePartitionStats).
 */
export async function readStreamStats(
  redis: Redis,
  keys: EventBusKeys,
  streams: readonly string[],
): Promise<StreamStats[]> {
  if (streams.length === 0) return [];
  if (!keys.partitioned) return readPartitionStats(redis, keys, streams, 0);
  const byPartition = await Promise.all(keys.all.map((k) => readPartitionStats(redis, keys, streams, k)));
  return streams.map((_, i) => mergePartitionStats(byPartition.map((stats) => stats[i])));
}

/**
 * One stream's stats from its partitions' stats: lengths, dead letters and each group's pending
 * summed over the partitions; a group's lag summed over the partitions that have the group, and
 * unknown (undefined) when any of them cannot tell.
 */
export function mergePartitionStats(partitions: readonly StreamStats[]): StreamStats {
  const groups = new Map<string, GroupStats>();
  for (const p of partitions) {
    for (const g of p.groups) {
      const seen = groups.get(g.group);
      if (!seen) groups.set(g.group, { ...g });
      else {
        seen.pending += g.pending;
        seen.lag = seen.lag === undefined || g.lag === undefined ? undefined : seen.lag + g.lag;
      }
    }
  }
  return {
    stream: partitions[0]?.stream ?? '',
    length: partitions.reduce((sum, p) => sum + p.length, 0),
    deadLetters: partitions.reduce((sum, p) => sum + p.deadLetters, 0),
    groups: [...groups.values()],
  };
}

/** The stats of partition `k` of each stream, in one pipeline. */
async function readPartitionStats(
  redis: Redis,
  keys: EventBusKeys,
  streams: readonly string[],
  k: number,
): Promise<StreamStats[]> {
  const pipeline = scripted(withConsumerScripts(redis).pipeline());
  for (const stream of streams) {
    pipeline.xlen(keys.stream(stream, k));
    pipeline.xlen(keys.deadLetter(stream, k));
    pipeline.xinfoOf(keys.stream(stream, k), 'GROUPS');
  }
  const replies = ((await pipeline.exec()) ?? []) as Reply[];
  return streams.map((stream, i) => {
    const [length, deadLetters, groups] = replies.slice(i * 3, i * 3 + 3);
    return {
      stream,
      length: Number(valueOf(length) ?? 0),
      deadLetters: Number(valueOf(deadLetters) ?? 0),
      groups: groupsOf(groups),
    };
  });
}

function valueOf(reply: Reply | undefined): unknown {
  if (!reply) return undefined;
  if (reply[0]) throw reply[0];
  return reply[1];
}

function groupsOf(reply: Reply | undefined): GroupStats[] {
  // NOTE: XINFO GROUPS fails with "no such key" until the stream exists: no groups yet.
  if (reply?.[0]?.message.includes('no such key')) return [];
  return ((valueOf(reply) as unknown[][] | undefined) ?? []).map(toGroupStats);
}

function toGroupStats(flat: unknown[]): GroupStats {
  const info = pairsToRecord(flat);
  const lag = info.lag;
  return {
    group: String(info.name),
    lag: lag === null || lag === undefined ? undefined : Number(lag),
    pending: Number(info.pending ?? 0),
  };
}
