import { Injectable } from '@nestjs/common';
import { EventBusCore } from '@nest-streams/event-bus';
import { comparePartitionIds, formatPartitionId } from '@nest-streams/event-bus/ops/partition-ids';
import { toRecord } from '../../ops/http/redis-replies';
import { toEntry } from '../../ops/streams/streams.service';
import type { TailEntry } from './overview-sample';

/** How often a tail looks for new entries. */
export const TAIL_POLL_MS = 500;
/** Entries read from each partition per read; the rest come with the next one. */
export const TAIL_BATCH = 100;

type RawEntry = [id: string, fields: string[]];

/**
 * Reads what is appended to a stream, for the console's live tail: plain XREAD (never
 * XREADGROUP) after a position per partition, so it joins no group and moves none.
 */
@Injectable()
export class StreamTail {
  constructor(private readonly core: EventBusCore) {}

  /** How many positions a tail has: one per partition. */
  get partitions(): number {
    return this.core.keys.partitions;
  }

  /** The position of the stream's end now: the last entry id of each partition (`0-0` for an empty one). */
  async end(stream: string): Promise<string[]> {
    const { keys, redis } = this.core;
    return Promise.all(
      keys.all.map(async (k) => {
        const [last] = (await redis.xrevrange(keys.stream(stream, k), '+', '-', 'COUNT', 1)) as RawEntry[];
        return last?.[0] ?? '0-0';
      }),
    );
  }

  /**
   * The entries after `positions` (up to TAIL_BATCH of each partition), in (entry id, partition)
   * order, each with the partition it came from.
   */
  async read(
    stream: string,
    positions: string[],
  ): Promise<Array<{ partition: number; entryId: string; entry: TailEntry }>> {
    const { keys, redis } = this.core;
    const read = await Promise.all(
      keys.all.map(async (k) => {
        // NOTE: one XREAD per partition: on a cluster the partitions' keys live on different nodes.
        const reply = (await redis.xread(
          'COUNT',
          TAIL_BATCH,
          'STREAMS',
          keys.stream(stream, k),
          positions[k],
        )) as Array<[key: string, entries: RawEntry[]]> | null;
        return (reply?.[0]?.[1] ?? []).map(([id, fields]) => ({
          partition: k,
          entryId: id,
          entry: toEntry(formatPartitionId(keys, k, id), toRecord<string>(fields)),
        }));
      }),
    );
    return read
      .flat()
      .sort((a, b) =>
        comparePartitionIds({ partition: a.partition, id: a.entryId }, { partition: b.partition, id: b.entryId }),
      );
  }
}
