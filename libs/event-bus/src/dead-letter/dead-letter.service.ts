import { Injectable } from '@nestjs/common';
import { withConsumerScripts } from '../consumer/consumer-scripts';
import { fieldsToRecord } from '../envelope/envelope';
import { EventBusCore } from '../event-bus.core';
import {
  comparePartitionIds,
  formatPartitionId,
  parsePartitionId,
  PartitionEntryId,
  startAfter,
} from '../ops/partition-ids';

/** One dead letter as stored in `<ns>:{<stream>}:dlq` (a partition's dead-letter stream when partitioned). */
export interface DeadLetter {
  /** Id of the dead-letter entry; `p<k>/<entryId>` when streams are partitioned. */
  id: string;
  /** The partition whose dead-letter stream holds it; present only when streams are partitioned. */
  partition?: number;
  reason: string;
  error: string;
  stream: string;
  /** Id of the original entry. */
  entryId: string;
  group: string;
  consumer: string;
  handler: string;
  attempts: number;
  deadLetteredAt: string;
  eventId: string;
  type: string;
  /** The original entry's fields, as written. */
  envelope: Record<string, string>;
}

/** Which dead letters of a stream an operation applies to. All given conditions must hold. */
export interface DeadLetterFilter {
  ids?: string[];
  group?: string;
  reason?: string;
  type?: string;
  /** Required to act on every dead letter of the stream when no other condition is given. */
  all?: boolean;
}

const SCAN_PAGE = 500;

/**
 * List, redrive and purge dead letters. With partitioned streams every operation covers the
 * dead-letter stream of each partition, and dead-letter ids are `p<k>/<entryId>` (a bare entry id
 * means partition 0); listings merge the partitions by entry id.
 */
@Injectable()
export class DeadLetterService {
  constructor(private readonly core: EventBusCore) {}

  /** Dead letters of `stream`, oldest first, filtered; `after` pages by dead-letter id. */
  async list(
    stream: string,
    filter: Omit<DeadLetterFilter, 'all'> = {},
    options: { count?: number; after?: string } = {},
  ): Promise<DeadLetter[]> {
    const count = options.count ?? 100;
    const { keys } = this.core;
    const after = options.after === undefined ? undefined : parsePartitionId(keys, options.after);
    if (options.after !== undefined && !after) return [];
    if (!keys.partitioned) return this.listPartition(stream, 0, filter, count, after ? `(${after.id}` : '-');
    // NOTE: each partition's first `count` matches hold the merged first `count`.
    const perPartition = await Promise.all(
      keys.all.map((k) => this.listPartition(stream, k, filter, count, after ? startAfter(after, k) : '-')),
    );
    return perPartition
      .flat()
      .sort((a, b) => comparePartitionIds(partitionIdOf(a), partitionIdOf(b)))
      .slice(0, count);
  }

  /** How many dead letters `stream` has (in all its partitions). */
  async count(stream: string): Promise<number> {
    const lengths = await Promise.all(
      this.core.keys.all.map((k) => this.core.redis.xlen(this.core.keys.deadLetter(stream, k))),
    );
    return lengths.reduce((sum, n) => sum + n, 0);
  }

  /**
   * Sends matching dead letters back to the group that failed them, and to no other: each is
   * appended to that group's redrive stream (of the dead letter's own partition) and removed from
   * the dead-letter stream in one MULTI. Returns how many were redriven.
   */
  async redrive(stream: string, filter: DeadLetterFilter): Promise<number> {
    const { redis, keys } = this.core;
    const letters = await this.select(stream, filter);
    const targets = new Map<string, { group: string; k: number }>();
    for (const letter of letters) {
      const k = partitionIdOf(letter).partition;
      targets.set(keys.redrive(stream, letter.group, k), { group: letter.group, k });
    }
    await Promise.all(
      [...targets].map(([key, { group }]) =>
        withConsumerScripts(redis)
          .xgroupOf(key, 'CREATE', group, '0', 'MKSTREAM')
          .catch((error: unknown) => {
            if (!String(error).includes('BUSYGROUP')) throw error;
          }),
      ),
    );
    // NOTE: one MULTI per letter (each move is atomic, within its partition's slot), all sent at once and applied in order.
    const moves = await Promise.all(
      letters.map((letter) => {
        const { partition, id } = partitionIdOf(letter);
        return redis
          .multi()
          .xadd(keys.redrive(stream, letter.group, partition), '*', ...Object.entries(letter.envelope).flat())
          .xdel(keys.deadLetter(stream, partition), id)
          .exec();
      }),
    );
    return moves.filter((results) => results?.every(([error]) => !error)).length;
  }

  /** Deletes matching dead letters for good. Returns how many were deleted. */
  async purge(stream: string, filter: DeadLetterFilter): Promise<number> {
    const { redis, keys } = this.core;
    if (filter.all && !filter.ids && !filter.group && !filter.reason && !filter.type) {
      // NOTE: one DEL per partition: the keys of two partitions may live on different cluster nodes.
      const lengths = await Promise.all(
        keys.all.map(async (k) => {
          const key = keys.deadLetter(stream, k);
          const length = await redis.xlen(key);
          await redis.del(key);
          return length;
        }),
      );
      return lengths.reduce((sum, n) => sum + n, 0);
    }
    const byPartition = new Map<number, string[]>();
    for (const letter of await this.select(stream, filter)) {
      const { partition, id } = partitionIdOf(letter);
      byPartition.set(partition, [...(byPartition.get(partition) ?? []), id]);
    }
    let deleted = 0;
    for (const [k, ids] of byPartition) {
      for (let i = 0; i < ids.length; i += SCAN_PAGE)
        deleted += await redis.xdel(keys.deadLetter(stream, k), ...ids.slice(i, i + SCAN_PAGE));
    }
    return deleted;
  }

  /** Matching dead letters of one partition, oldest first, from `start` (an XRANGE start). */
  private async listPartition(
    stream: string,
    k: number,
    filter: Omit<DeadLetterFilter, 'all'>,
    count: number,
    start: string,
  ): Promise<DeadLetter[]> {
    const key = this.core.keys.deadLetter(stream, k);
    const out: DeadLetter[] = [];
    let cursor = start;
    for (;;) {
      const page = await this.core.redis.xrange(key, cursor, '+', 'COUNT', SCAN_PAGE);
      for (const [id, fields] of page) {
        const letter = this.toDeadLetter(k, id, fields);
        if (matches(letter, filter)) out.push(letter);
        if (out.length >= count) return out;
      }
      if (page.length < SCAN_PAGE) return out;
      cursor = `(${page[page.length - 1][0]}`;
    }
  }

  private async select(stream: string, filter: DeadLetterFilter): Promise<DeadLetter[]> {
    const narrowed = filter.ids || filter.group || filter.reason || filter.type;
    if (!narrowed && !filter.all) {
      throw new Error('refusing to act on every dead letter: pass { all: true }, or ids, group, reason or type');
    }
    if (filter.ids) {
      const { keys, redis } = this.core;
      const wanted = filter.ids
        .map((text) => parsePartitionId(keys, text))
        .filter((at): at is PartitionEntryId => at !== undefined);
      const found = await Promise.all(
        wanted.map(async ({ partition, id }) =>
          (await redis.xrange(keys.deadLetter(stream, partition), id, id)).map(([entryId, fields]) =>
            this.toDeadLetter(partition, entryId, fields),
          ),
        ),
      );
      const rest = { ...filter, ids: undefined };
      return found.flat().filter((l) => matches(l, rest));
    }
    return this.list(stream, filter, { count: Number.MAX_SAFE_INTEGER });
  }

  private toDeadLetter(k: number, id: string, fields: string[]): DeadLetter {
    const letter = toDeadLetter(formatPartitionId(this.core.keys, k, id), fields);
    if (this.core.keys.partitioned) letter.partition = k;
    return letter;
  }
}

/** Where a dead letter this service read is stored: its partition and entry id. */
function partitionIdOf(letter: DeadLetter): PartitionEntryId {
  const slash = letter.id.indexOf('/');
  return { partition: letter.partition ?? 0, id: slash === -1 ? letter.id : letter.id.slice(slash + 1) };
}

function toDeadLetter(id: string, fields: string[]): DeadLetter {
  const r = fieldsToRecord(fields);
  let envelope: Record<string, string> = {};
  try {
    envelope = JSON.parse(r.envelope ?? '{}') as Record<string, string>;
  } catch {
    envelope = {};
  }
  return {
    id,
    reason: r.reason ?? '',
    error: r.error ?? '',
    stream: r.stream ?? '',
    entryId: r.entryid ?? '',
    group: r.group ?? '',
    consumer: r.consumer ?? '',
    handler: r.handler ?? '',
    attempts: Number(r.attempts ?? 0),
    deadLetteredAt: r.deadletteredat ?? '',
    eventId: r.eventid ?? '',
    type: r.type ?? '',
    envelope,
  };
}

function matches(letter: DeadLetter, filter: DeadLetterFilter): boolean {
  return (
    (!filter.ids || filter.ids.includes(letter.id)) &&
    (!filter.group || letter.group === filter.group) &&
    (!filter.reason || letter.reason === filter.reason) &&
    (!filter.type || letter.type === filter.type)
  );
}
