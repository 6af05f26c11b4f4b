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
  /** Milliseconds of the entry id: when the entry was written. */
  score: number;
  /** What the record holds. */
  entry: IndexedEntry;
  /** The compact record of `entry` without name codes (encodeEntry): an element of the flow's list. */
  member: string;
  /**
   * The event id is found only through the id index: it is neither the correlation id nor
   * `<subject>:<suffix>` (found through the subject index).
   */
  needsIdEntry: boolean;
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
  const subject = sane(entry.subject ?? undefined) ?? null;
  return {
    correlationId,
    eventId: entry.id,
    subject,
    score,
    entry,
    member: encodeEntry(entry, correlationId),
    needsIdEntry: entry.id !== correlationId && !(subject !== null && isSubjectDerived(entry.id, subject)),
  };
}

/** True when `eventId` is `<subject>:<suffix>`: the flow view finds such an event through its subject. */
export function isSubjectDerived(eventId: string, subject: string): boolean {
  return eventId.length > subject.length + 1 && eventId.startsWith(subject) && eventId[subject.length] === ':';
}

/**
 * The subjects an event id may be derived from (`a:b:c`: `a:b`, then `a`), for finding an event
 * the id index does not hold.
 */
export function subjectsOfEventId(eventId: string): string[] {
  const out: string[] = [];
  for (let at = eventId.lastIndexOf(':'); at > 0; at = eventId.lastIndexOf(':', at - 1)) out.push(eventId.slice(0, at));
  return out;
}

/*
 * The compact record of an entry: a JSON array, positional, without field names.
 *   event:       [stream, entry, id, type, version, source, subject, time, causationid(, partition)]
 *   dead letter: [0, stream, entry, id, ..., causationid, partition|null, deadLetterId, group, reason,
 *                 error, handler, consumer, attempts, deadletteredat]
 * `stream`, `type`, `source`: a number, the name's code in `<ns>:flow:names` (FlowNames), or the
 * name. `entry`: the entry id, or its milliseconds (a number) when its sequence is 0. `id` and
 * `causationid`: 0 for the flow's correlation id, `^<rest>` for `<subject><rest>`, else as is
 * (a value starting with `^` or `\` gets a `\` in front). `time`: the ms it is after the entry
 * id's time (a number) when that gives back the same ISO string, else as is.
 */

/** The names of an entry that a record may write as codes (FlowNames): stream, type, source. */
export function namesOf(entry: IndexedEntry): string[] {
  return [entry.stream, entry.type, entry.source].filter((n): n is string => n !== null);
}

/**
 * The compact record of `entry` in the flow of `correlationId`; `codeOf` gives the code (a
 * number from 1) of a stream, type or source name, written instead of the name.
 */
export function encodeEntry(
  entry: IndexedEntry,
  correlationId: string,
  codeOf: (name: string) => number | undefined = () => undefined,
): string {
  const ms = Number(entry.entryId.split('-')[0]);
  const ref = (v: string | null): string | number | null => encodeRef(v, correlationId, entry.subject);
  const name = (v: string | null): string | number | null => (v === null ? null : (codeOf(v) ?? v));
  const event: unknown[] = [
    name(entry.stream),
    entry.entryId.endsWith('-0') && String(ms) + '-0' === entry.entryId ? ms : entry.entryId,
    ref(entry.id),
    name(entry.type),
    entry.version,
    name(entry.source),
    entry.subject,
    encodeTime(entry.time, ms),
    ref(entry.causationid),
  ];
  if (entry.kind === 'event') {
    if (entry.partition !== undefined) event.push(entry.partition);
    return JSON.stringify(event);
  }
  return JSON.stringify([
    0,
    ...event,
    entry.partition ?? null,
    entry.deadLetterId,
    entry.group,
    entry.reason,
    entry.error,
    entry.handler,
    entry.consumer,
    entry.attempts,
    entry.deadletteredat,
  ]);
}

/**
 * A record of the flow `correlationId`'s list, or undefined when it is not one the indexer wrote;
 * `nameOf` gives the name of a code.
 */
export function parseIndexedEntry(
  member: string,
  correlationId: string,
  nameOf: (code: number) => string | undefined = () => undefined,
): IndexedEntry | undefined {
  let a: unknown;
  try {
    a = JSON.parse(member);
  } catch {
    return undefined;
  }
  if (!Array.isArray(a)) return undefined;
  const dead = a[0] === 0;
  const r = dead ? a.slice(1) : a;
  if (dead ? r.length !== 18 : r.length !== 9 && r.length !== 10) return undefined;
  const [streamOrCode, entry, id, type, version, source, subject, time, causation, partition] = r as unknown[];
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const name = (v: unknown): string | null => (typeof v === 'number' ? (nameOf(v) ?? null) : str(v));
  const stream = name(streamOrCode);
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  if (typeof stream !== 'string' || (typeof entry !== 'string' && typeof entry !== 'number')) return undefined;
  const entryId = typeof entry === 'number' ? `${entry}-0` : entry;
  const subjectOf = str(subject);
  const eventId = decodeRef(id, correlationId, subjectOf);
  if (eventId === null) return undefined;
  const event: IndexedEvent = {
    kind: 'event',
    stream,
    entryId,
    ...(typeof partition === 'number' ? { partition } : {}),
    id: eventId,
    type: name(type),
    version: num(version),
    source: name(source),
    subject: subjectOf,
    time: decodeTime(time, Number(entryId.split('-')[0])),
    causationid: decodeRef(causation, correlationId, subjectOf),
  };
  if (!dead) return event;
  const [deadLetterId, group, reason, error, handler, consumer, attempts, deadletteredat] = r.slice(10) as unknown[];
  if (typeof deadLetterId !== 'string') return undefined;
  const { kind: _kind, ...rest } = event;
  return {
    kind: 'dead-letter',
    ...rest,
    deadLetterId,
    group: str(group) ?? '',
    reason: str(reason) ?? '',
    error: str(error) ?? '',
    handler: str(handler) ?? '',
    consumer: str(consumer) ?? '',
    attempts: num(attempts),
    deadletteredat: str(deadletteredat),
  };
}

function encodeRef(v: string | null, correlationId: string, subject: string | null): string | number | null {
  if (v === null) return null;
  if (v === correlationId) return 0;
  if (subject && v.length > subject.length && v.startsWith(subject)) return '^' + v.slice(subject.length);
  return v.startsWith('^') || v.startsWith('\\') ? '\\' + v : v;
}

function decodeRef(v: unknown, correlationId: string, subject: string | null): string | null {
  if (v === 0) return correlationId;
  if (typeof v !== 'string') return null;
  if (v.startsWith('^')) return subject === null ? null : subject + v.slice(1);
  return v.startsWith('\\') ? v.slice(1) : v;
}

function encodeTime(time: string | null, entryMs: number): string | number | null {
  if (time === null) return null;
  const ms = Date.parse(time);
  if (!Number.isFinite(ms) || !Number.isFinite(entryMs) || new Date(ms).toISOString() !== time) return time;
  return ms - entryMs;
}

function decodeTime(v: unknown, entryMs: number): string | null {
  if (typeof v === 'number') return Number.isFinite(entryMs + v) ? new Date(entryMs + v).toISOString() : null;
  return typeof v === 'string' ? v : null;
}

function eventOf(
  stream: string,
  entryId: string,
  r: Record<string, string>,
  partition?: number,
): IndexedEvent | undefined {
  const id = sane(r.id);
  if (!id) return undefined;
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
