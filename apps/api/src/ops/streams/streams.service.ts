import { Injectable, NotFoundException } from '@nestjs/common';
import { EventBusCore, RetentionService } from '@app/event-bus';
import { rangeStart, rangeEnd } from '../http/ranges';
import { idTime, toRecord } from '../http/redis-replies';
import { registeredStreams } from '../http/ops-params';
import { ENTRY_SCAN_LIMIT } from '../ops.constants';
import type { EntryPageDto, ListEntriesQuery, StreamEntryDto, StreamSummaryDto } from './stream.dto';

type RawEntry = [id: string, fields: string[]];

/** What is in the registered streams: sizes, ends, entries. */
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
    const key = this.core.keys.stream(stream);
    const [info, retention, deadLetters] = await Promise.all([
      this.core.redis.xinfo('STREAM', key).catch((error: unknown) => {
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
   * A page of entries, newest or oldest first, filtered by type and subject while paging; reads
   * at most ENTRY_SCAN_LIMIT entries per call (nextCursor then continues where it stopped).
   */
  async entries(stream: string, query: ListEntriesQuery): Promise<EntryPageDto> {
    const key = this.core.keys.stream(stream);
    const count = query.count ?? 50;
    const newest = (query.order ?? 'newest') === 'newest';
    let low = rangeStart(query.from);
    let high = rangeEnd(query.to);
    if (query.cursor) {
      if (newest) high = `(${query.cursor}`;
      else low = `(${query.cursor}`;
    }
    const filtered = query.type !== undefined || query.subject !== undefined;
    const entries: StreamEntryDto[] = [];
    let scanned = 0;
    for (;;) {
      const pageSize = filtered ? Math.min(500, ENTRY_SCAN_LIMIT - scanned) : count - entries.length;
      const page = (newest
        ? await this.core.redis.xrevrange(key, high, low, 'COUNT', pageSize)
        : await this.core.redis.xrange(key, low, high, 'COUNT', pageSize)) as RawEntry[];
      for (const [id, fields] of page) {
        scanned++;
        const record = toRecord<string>(fields);
        if ((query.type === undefined || record.type === query.type) && (query.subject === undefined || record.subject === query.subject)) {
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

  async entry(stream: string, id: string): Promise<StreamEntryDto> {
    const [found] = (await this.core.redis.xrange(this.core.keys.stream(stream), id, id)) as RawEntry[];
    if (!found) throw new NotFoundException(`no entry ${id} in stream ${stream}`);
    return toEntry(found[0], toRecord<string>(found[1]));
  }
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
