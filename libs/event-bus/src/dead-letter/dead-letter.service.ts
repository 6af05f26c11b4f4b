import { Injectable } from '@nestjs/common';
import { fieldsToRecord } from '../envelope/envelope';
import { EventBusCore } from '../event-bus.core';

/** One dead letter as stored in `<ns>:{<stream>}:dlq`. */
export interface DeadLetter {
  /** Id of the dead-letter entry. */
  id: string;
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

/** List, redrive and purge dead letters. */
@Injectable()
export class DeadLetterService {
  constructor(private readonly core: EventBusCore) {}

  /** Dead letters of `stream`, oldest first, filtered; `after` pages by dead-letter id. */
  async list(stream: string, filter: Omit<DeadLetterFilter, 'all'> = {}, options: { count?: number; after?: string } = {}): Promise<DeadLetter[]> {
    const count = options.count ?? 100;
    const out: DeadLetter[] = [];
    let start = options.after ? `(${options.after}` : '-';
    for (;;) {
      const page = await this.core.redis.xrange(this.core.keys.deadLetter(stream), start, '+', 'COUNT', SCAN_PAGE);
      for (const [id, fields] of page) {
        const letter = toDeadLetter(id, fields);
        if (matches(letter, filter)) out.push(letter);
        if (out.length >= count) return out;
      }
      if (page.length < SCAN_PAGE) return out;
      start = `(${page[page.length - 1][0]}`;
    }
  }

  async count(stream: string): Promise<number> {
    return this.core.redis.xlen(this.core.keys.deadLetter(stream));
  }

  /**
   * Sends matching dead letters back to the group that failed them, and to no other: each is
   * appended to that group's redrive stream and removed from the dead-letter stream in one MULTI.
   * Returns how many were redriven.
   */
  async redrive(stream: string, filter: DeadLetterFilter): Promise<number> {
    const letters = await this.select(stream, filter);
    const dlq = this.core.keys.deadLetter(stream);
    const groups = new Set(letters.map((l) => l.group));
    await Promise.all(
      [...groups].map((group) =>
        this.core.redis.xgroup('CREATE', this.core.keys.redrive(stream, group), group, '0', 'MKSTREAM').catch((error: unknown) => {
          if (!String(error).includes('BUSYGROUP')) throw error;
        }),
      ),
    );
    // NOTE: one MULTI per letter (each move is atomic), all sent at once and applied in order.
    const moves = await Promise.all(
      letters.map((letter) =>
        this.core.redis
          .multi()
          .xadd(this.core.keys.redrive(stream, letter.group), '*', ...Object.entries(letter.envelope).flat())
          .xdel(dlq, letter.id)
          .exec(),
      ),
    );
    return moves.filter((results) => results?.every(([error]) => !error)).length;
  }


  /** Deletes matching dead letters for good. Returns how many were deleted. */
  async purge(stream: string, filter: DeadLetterFilter): Promise<number> {
    const key = this.core.keys.deadLetter(stream);
    if (filter.all && !filter.ids && !filter.group && !filter.reason && !filter.type) {
      const length = await this.core.redis.xlen(key);
      await this.core.redis.del(key);
      return length;
    }
    const ids = (await this.select(stream, filter)).map((l) => l.id);
    let deleted = 0;
    for (let i = 0; i < ids.length; i += SCAN_PAGE) deleted += await this.core.redis.xdel(key, ...ids.slice(i, i + SCAN_PAGE));
    return deleted;
  }

  private async select(stream: string, filter: DeadLetterFilter): Promise<DeadLetter[]> {
    const narrowed = filter.ids || filter.group || filter.reason || filter.type;
    if (!narrowed && !filter.all) {
      throw new Error('refusing to act on every dead letter: pass { all: true }, or ids, group, reason or type');
    }
    if (filter.ids) {
      const key = this.core.keys.deadLetter(stream);
      const found = await Promise.all(filter.ids.map((id) => this.core.redis.xrange(key, id, id)));
      return found.flat().map(([id, fields]) => toDeadLetter(id, fields)).filter((l) => matches(l, { ...filter, ids: undefined }));
    }
    return this.list(stream, filter, { count: Number.MAX_SAFE_INTEGER });
  }
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
