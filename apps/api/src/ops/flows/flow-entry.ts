import { toRecord } from '../http/redis-replies';
import { FLOW_INDEX_MAX_ERROR_LENGTH, FLOW_INDEX_MAX_ID_LENGTH } from './flows.constants';

/** An event of a flow as the index keeps it: enough to show it after its stream was trimmed. */
export interface IndexedEvent {
  kind: 'event';
  stream: string;
  /** Its entry id in `stream` (in its partition's key). */
  entryId: string;
  /** The partition of the stream whose key holds the entry; only when streams are partitioned. */
  partition?: number;
  /** The event id. */
  id: string;
  type: string | null;
  version: number | null;
  source: string | null;
  subject: string | null;
  time: string | null;
  causationid: string | null;
}

/** A dead letter of a flow: the event it holds and why one group gave it up. */
export interface IndexedDeadLetter extends Omit<IndexedEvent, 'kind'> {
  kind: 'dead-letter';
  /** The dead letter's own entry id in `<stream>:dlq` (of its partition, the same as the event's). */
  deadLetterId: string;
  group: string;
  reason: string;
  error: string;
  handler: string;
  consumer: string;
  attempts: number | null;
  deadletteredat: string | null;
}

export type IndexedEntry = IndexedEvent | IndexedDeadLetter;

/** What the indexer writes for one entry. */
export interface FlowIndexWrite {
  correlationId: string;
  eventId: string;
  subject: string | null;
  /** Milliseconds of the entry id: the member's score. */
  score: number;
  /** Compact JSON of the IndexedEntry: the flow set's member. */
  member: string;
}

/**
 * The index write of a stream entry (`kind` 'event') or of a dead-letter entry ('dead-letter'),
 * or undefined for an entry the flow view cannot place (deleted, no event id, absurd ids).
 * `partition`: the partition of the key it was read from, given only when streams are partitioned.
 */
export function flowIndexWrite(
  kind: IndexedEntry['kind'],
  stream: string,
  entryId: string,
  fields: string[] | null,
  partition?: number,
): FlowIndexWrite | undefined {
  if (!fields) return undefined;
  const record = toRecord<string>(fields);
  const entry =
    kind === 'event' ? eventOf(stream, entryId, record, partition) : deadLetterOf(stream, entryId, record, partition);
  if (!entry) return undefined;
  // NOTE: an event without a correlation id starts (and is) its own flow.
  const correlationId = sane(kind === 'event' ? record.correlationid : envelopeOf(record).correlationid) ?? entry.id;
  const score = Number(entryId.split('-')[0]);
  if (!Number.isFinite(score)) return undefined;
  return {
    correlationId,
    eventId: entry.id,
    subject: sane(entry.subject ?? undefined) ?? null,
    score,
    member: JSON.stringify(entry),
  };
}

/** A member of a flow set, or undefined when it is not one the indexer wrote. */
export function parseIndexedEntry(member: string): IndexedEntry | undefined {
  try {
    const value = JSON.parse(member) as IndexedEntry;
    if (
      typeof value !== 'object' ||
      value === null ||
      typeof value.id !== 'string' ||
      typeof value.stream !== 'string' ||
      typeof value.entryId !== 'string'
    )
      return undefined;
    return value.kind === 'dead-letter' || value.kind === 'event' ? value : undefined;
  } catch {
    return undefined;
  }
}

function eventOf(
  stream: string,
  entryId: string,
  r: Record<string, string>,
  partition?: number,
): IndexedEvent | undefined {
  const id = sane(r.id);
  if (!id) return undefined;
  // NOTE: the keys are written in one fixed order, so indexing an entry twice writes the same member.
  return { kind: 'event', stream, entryId, ...(partition === undefined ? {} : { partition }), id, ...described(r) };
}

function deadLetterOf(
  stream: string,
  entryId: string,
  r: Record<string, string>,
  partition?: number,
): IndexedDeadLetter | undefined {
  const envelope = envelopeOf(r);
  const id = sane(r.eventid) ?? sane(envelope.id);
  const originalEntryId = r.entryid;
  if (!id || !originalEntryId) return undefined;
  const attempts = Number(r.attempts);
  return {
    kind: 'dead-letter',
    stream: r.stream || stream,
    entryId: originalEntryId,
    ...(partition === undefined ? {} : { partition }),
    id,
    ...described({ ...envelope, type: r.type || envelope.type }),
    deadLetterId: entryId,
    group: r.group ?? '',
    reason: r.reason ?? '',
    error: (r.error ?? '').slice(0, FLOW_INDEX_MAX_ERROR_LENGTH),
    handler: r.handler ?? '',
    consumer: r.consumer ?? '',
    attempts: Number.isFinite(attempts) ? attempts : null,
    deadletteredat: r.deadletteredat ?? null,
  };
}

function described(r: Record<string, string | undefined>): Omit<IndexedEvent, 'kind' | 'stream' | 'entryId' | 'id'> {
  const version = r.version === undefined ? (r.type === undefined ? null : 1) : Number(r.version);
  return {
    type: r.type ?? null,
    version: Number.isFinite(version) ? version : null,
    source: r.source ?? null,
    subject: r.subject ?? null,
    time: r.time ?? null,
    causationid: r.causationid ?? null,
  };
}

/** The original entry's fields a dead letter carries as JSON; {} when they cannot be read. */
function envelopeOf(r: Record<string, string>): Record<string, string | undefined> {
  try {
    const parsed: unknown = JSON.parse(r.envelope ?? '{}');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v;
    return out;
  } catch {
    return {};
  }
}

function sane(value: string | undefined): string | undefined {
  return value && value.length <= FLOW_INDEX_MAX_ID_LENGTH ? value : undefined;
}
