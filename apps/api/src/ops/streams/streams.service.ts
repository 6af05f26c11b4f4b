import { Injectable, NotFoundException } from '@nestjs/common';
import { scripted, withConsumerScripts } from '@nest-streams/event-bus/consumer/consumer-scripts';
import { EventBusCore, RetentionService } from '@nest-streams/event-bus';
import {
  comparePartitionIds,
  endBefore,
  formatPartitionId,
  isBareEntryId,
  parsePartitionId,
  PartitionEntryId,
  startAfter,
} from '@nest-streams/event-bus/ops/partition-ids';
import { rangeStart, rangeEnd } from '../http/ranges';
import { idTime, toRecord } from '../http/redis-replies';
import { compareIds } from '@nest-streams/event-bus/utils/stream-ids';
import { registeredStreams } from '../http/ops-params';
import { ENTRY_SCAN_LIMIT } from '../ops.constants';
import type { EntryPageDto, ListEntriesQuery, StreamEntryDto, StreamSummaryDto } from './stream.dto';

type RawEntry = [id: string, fields: string[]];

/**
 * What is in the registered streams: sizes, ends, entries. With partitioned streams a summary sums
 * the partitions (first and last ids: the oldest and newest of any partition), listings merge the
 * partitions by entry id, and entry ids read `p<k>/<entryId>`.
 */
@Injectable()
export class StreamsService {
  constructor(
    private readonly core: EventBusCore,
    private readonly retention: RetentionService,
  ) {}

  async summaries(): Promise<StreamSummaryDto[]> {
    const streams = [...registeredStreams()].sort();
    return Promise.all(streams.map((stream) => this.summary(stream)));
  }

  async summary(stream: string): Promise<StreamSummaryDto> {
    if (this.core.keys.partitioned) return this.partitionedSummary(stream);
    const key = this.core.keys.stream(stream);
    const [info, retention, deadLetters] = await Promise.all([
      withConsumerScripts(this.core.redis)
        .xinfoOf(key, 'STREAM')
        .catch((error: unknown) => {
          if (String(error).includes('no such key')) return undefined;
          throw error;
        }),
      this.retention.policy(stream),
      this.core.redis.xlen(this.core.keys.deadLetter(stream)),
    ]);
    const r = info ? toRecord(info as unknown[]) : {};
    const first = (r['first-entry'] as RawEntry | null | undefined)?.[0] ?? null;
    const last = (r['last-entry'] as RawEntry | null | undefined)?.[0] ?? null;
    return {
      stream,
      length: Number(r.length ?? 0),
      firstId: first,
      lastId: last,
      firstTime: idTime(first),
      lastTime: idTime(last),
      groups: Number(r.groups ?? 0),
      retention,
      deadLetters,
    };
  }

  /**
   * A page of entries, newest or oldest first, filtered by type, subject and payload text while paging; reads
   * at most ENTRY_SCAN_LIMIT entries per call (nextCursor then continues where it stopped).
   */
  async entries(stream: string, query: ListEntriesQuery): Promise<EntryPageDto> {
    if (this.core.keys.partitioned) return this.mergedEntries(stream, query);
    const key = this.core.keys.stream(stream);
    const count = query.count ?? 50;
    const newest = (query.order ?? 'newest') === 'newest';
    let low = rangeStart(query.from);
    let high = rangeEnd(query.to);
    if (query.cursor) {
      if (newest) high = `(${query.cursor}`;
      else low = `(${query.cursor}`;
    }
    const filtered = query.type !== undefined || query.subject !== undefined || query.text !== undefined;
    const entries: StreamEntryDto[] = [];
    let scanned = 0;
    for (;;) {
      const pageSize = filtered ? Math.min(500, ENTRY_SCAN_LIMIT - scanned) : count - entries.length;
      const page = (
        newest
          ? await this.core.redis.xrevrange(key, high, low, 'COUNT', pageSize)
          : await this.core.redis.xrange(key, low, high, 'COUNT', pageSize)
      ) as RawEntry[];
      for (const [id, fields] of page) {
        scanned++;
        const record = toRecord<string>(fields);
        if (matches(query, record)) {
          entries.push(toEntry(id, record));
          if (entries.length === count) return { entries, nextCursor: id };
        }
      }
      if (page.length < pageSize) return { entries, nextCursor: null };
      const last = page[page.length - 1][0];
      if (scanned >= ENTRY_SCAN_LIMIT) return { entries, nextCursor: last };
      if (newest) high = `(${last}`;
      else low = `(${last}`;
    }
  }

  /** One entry; partitioned: `p<k>/<entryId>`, or a bare entry id looked up in every partition (the first that has it). */
  async entry(stream: string, id: string): Promise<StreamEntryDto> {
    const { keys, redis } = this.core;
    const at = parsePartitionId(keys, id);
    const partitions = !at ? [] : keys.partitioned && isBareEntryId(id) ? keys.all : [at.partition];
    const found = await Promise.all(
      partitions.map(async (k) => ({
        k,
        entries: (await redis.xrange(keys.stream(stream, k), at!.id, at!.id)) as RawEntry[],
      })),
    );
    const hit = found.find((f) => f.entries.length > 0);
    if (!hit) throw new NotFoundException(`no entry ${id} in stream ${stream}`);
    const [entryId, fields] = hit.entries[0];
    return toEntry(formatPartitionId(keys, hit.k, entryId), toRecord<string>(fields));
  }

  /** The summary of a partitioned stream: each partition read in one pipeline of its own (their keys may live on different cluster nodes). */
  private async partitionedSummary(stream: string): Promise<StreamSummaryDto> {
    const { keys, redis } = this.core;
    const [parts, retention] = await Promise.all([
      Promise.all(
        keys.all.map(async (k) => {
          const replies =
            (await scripted(withConsumerScripts(redis).pipeline())
              .xinfoOf(keys.stream(stream, k), 'STREAM')
              .xinfoOf(keys.stream(stream, k), 'GROUPS')
              .xlen(keys.deadLetter(stream, k))
              .exec()) ?? [];
          const [[infoError, info], [groupsError, groups], [dlqError, deadLetters]] = replies;
          for (const error of [infoError, groupsError, dlqError])
            if (error && !String(error).includes('no such key')) throw error;
          const r = info && !infoError ? toRecord(info as unknown[]) : {};
          return {
            length: Number(r.length ?? 0),
            first: (r['first-entry'] as RawEntry | null | undefined)?.[0] ?? null,
            last: (r['last-entry'] as RawEntry | null | undefined)?.[0] ?? null,
            groups: groupsError ? [] : (groups as unknown[][]).map((g) => String(toRecord(g).name)),
            deadLetters: Number(deadLetters ?? 0),
          };
        }),
      ),
      this.retention.policy(stream),
    ]);
    const firsts = parts
      .map((p) => p.first)
      .filter((id): id is string => id !== null)
      .sort(compareIds);
    const lasts = parts
      .map((p) => p.last)
      .filter((id): id is string => id !== null)
      .sort(compareIds);
    const first = firsts[0] ?? null;
    const last = lasts.at(-1) ?? null;
    return {
      stream,
      length: parts.reduce((sum, p) => sum + p.length, 0),
      firstId: first,
      lastId: last,
      firstTime: idTime(first),
      lastTime: idTime(last),
      groups: new Set(parts.flatMap((p) => p.groups)).size,
      retention,
      deadLetters: parts.reduce((sum, p) => sum + p.deadLetters, 0),
    };
  }

  /**
   * `entries` over every partition, merged by (entry id, partition). A cursor `p<k>/<entryId>`
   * continues exactly after that entry; a bare id (or a bare id bound) applies to every partition.
   */
  private async mergedEntries(stream: string, query: ListEntriesQuery): Promise<EntryPageDto> {
    const { keys, redis } = this.core;
    const count = query.count ?? 50;
    const newest = (query.order ?? 'newest') === 'newest';
    const low = rangeStart(query.from);
    const high = rangeEnd(query.to);
    let cursor: PartitionEntryId | undefined;
    if (query.cursor) {
      cursor = parsePartitionId(keys, query.cursor);
      if (!cursor) return { entries: [], nextCursor: null };
      // NOTE: a bare cursor is after that id on every partition.
      if (isBareEntryId(query.cursor)) cursor = { id: cursor.id, partition: newest ? 0 : keys.partitions - 1 };
    }
    const filtered = query.type !== undefined || query.subject !== undefined || query.text !== undefined;
    const pageSize = filtered ? 500 : count;
    const heads = keys.all.map((k) => ({
      k,
      key: keys.stream(stream, k),
      bound: cursor ? (newest ? endBefore(cursor, k) : startAfter(cursor, k)) : newest ? high : low,
      buffer: [] as RawEntry[],
      exhausted: false,
    }));
    const entries: StreamEntryDto[] = [];
    let scanned = 0;
    for (;;) {
      await Promise.all(
        heads
          .filter((h) => h.buffer.length === 0 && !h.exhausted)
          .map(async (h) => {
            const page = (
              newest
                ? await redis.xrevrange(h.key, h.bound, low, 'COUNT', pageSize)
                : await redis.xrange(h.key, h.bound, high, 'COUNT', pageSize)
            ) as RawEntry[];
            h.buffer = page;
            h.exhausted = page.length < pageSize;
            if (page.length > 0) h.bound = `(${page[page.length - 1][0]}`;
          }),
      );
      let next: (typeof heads)[number] | undefined;
      for (const h of heads) {
        if (h.buffer.length === 0) continue;
        if (!next) next = h;
        else {
          const order = comparePartitionIds(
            { partition: h.k, id: h.buffer[0][0] },
            { partition: next.k, id: next.buffer[0][0] },
          );
          if (newest ? order > 0 : order < 0) next = h;
        }
      }
      if (!next) return { entries, nextCursor: null };
      const [id, fields] = next.buffer.shift()!;
      const qualified = formatPartitionId(keys, next.k, id);
      scanned++;
      const record = toRecord<string>(fields);
      if (matches(query, record)) {
        entries.push(toEntry(qualified, record));
        if (entries.length === count) return { entries, nextCursor: qualified };
      }
      if (scanned >= ENTRY_SCAN_LIMIT) return { entries, nextCursor: qualified };
    }
  }
}

/** Whether an entry passes the listing's filters: type, subject, and text in its payload as stored (case-insensitive). */
export function matches(
  query: Pick<ListEntriesQuery, 'type' | 'subject' | 'text'>,
  r: Record<string, string>,
): boolean {
  return (
    (query.type === undefined || r.type === query.type) &&
    (query.subject === undefined || r.subject === query.subject) &&
    (query.text === undefined || (r.data ?? '').toLowerCase().includes(query.text.toLowerCase()))
  );
}

/** An entry as the API shows it; fields an entry lacks (a contract breaker) are null. */
export function toEntry(id: string, r: Record<string, string>): StreamEntryDto {
  let data: unknown = r.data ?? null;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      // NOTE: kept as text: a breaker of the contract is shown as it is.
    }
  }
  const version = r.version === undefined ? (r.type === undefined ? null : 1) : Number(r.version);
  return {
    id,
    time: r.time ?? null,
    type: r.type ?? null,
    version: Number.isFinite(version) ? version : null,
    source: r.source ?? null,
    subject: r.subject ?? null,
    eventId: r.id ?? null,
    correlationId: r.correlationid ?? null,
    causationId: r.causationid ?? null,
    data,
  };
}
