import { pairsToRecord } from '../utils/pairs';
import type Redis from 'ioredis';
import type { EventBusKeys } from '../utils/keys';

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

/** XLEN of each stream and its dead letters, and XINFO GROUPS, in one pipelined round trip. */
export async function readStreamStats(redis: Redis, keys: EventBusKeys, streams: readonly string[]): Promise<StreamStats[]> {
  if (streams.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const stream of streams) {
    pipeline.xlen(keys.stream(stream));
    pipeline.xlen(keys.deadLetter(stream));
    pipeline.xinfo('GROUPS', keys.stream(stream));
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
