import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { decodeEnvelope, encodeEnvelope, EventEnvelope } from '@nest-streams/event-bus';
import { testKeys } from './redis';

/** An event as a foreign service would XADD it. */
export interface RawEvent {
  stream: string;
  type: string;
  data: object;
  id?: string;
  source?: string;
  subject?: string;
}

/** XADDs one CloudEvents entry with a raw client, to the partition of its subject (else its id); returns the envelope written. */
export async function xaddEvent(redis: Redis, namespace: string, event: RawEvent): Promise<EventEnvelope<object>> {
  const envelope: EventEnvelope<object> = {
    specversion: '1.0',
    id: event.id ?? randomUUID(),
    type: event.type,
    version: 1,
    source: event.source ?? 'test-service',
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: event.data,
    subject: event.subject ?? (event.data as { orderId?: string }).orderId,
  };
  await redis.xadd(
    eventKey(namespace, event.stream, envelope.subject ?? envelope.id),
    '*',
    ...encodeEnvelope(envelope),
  );
  return envelope;
}

/** The key of the partition of `stream` an event about `subjectOrId` goes to (the run's topology: see testKeys). */
export function eventKey(namespace: string, stream: string, subjectOrId: string): string {
  const keys = testKeys(namespace);
  return keys.stream(stream, keys.partitionOf(subjectOrId));
}

/**
 * A key in the hash slot of the events of `stream` about `subject`: what a publish's `with` or a
 * handler's `commit` may write beside them (the namespace's slot with one partition, else the
 * partition's). `<namespace>:<suffix>` on the standalone topology with one partition.
 */
export function slotKey(namespace: string, stream: string, subject: string, suffix: string): string {
  const keys = testKeys(namespace);
  return keys.partitioned ? `${eventKey(namespace, stream, subject)}:${suffix}` : `${keys.namespace}:${suffix}`;
}

/** XADDs raw entry fields (`[field, value, ...]`, as encodeEnvelope gives) to the partition of their `subject` (else `id`); returns the entry id. */
export async function xaddFields(redis: Redis, namespace: string, stream: string, fields: string[]): Promise<string> {
  const field = (name: string): string | undefined => {
    for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
    return undefined;
  };
  return (await redis.xadd(
    eventKey(namespace, stream, field('subject') ?? field('id') ?? ''),
    '*',
    ...fields,
  )) as string;
}

/** XRANGE of every partition of `stream` (or of a companion key of it: `suffix` `:dlq`, ...), by entry id. */
export async function xrangeAll(
  redis: Redis,
  namespace: string,
  stream: string,
  suffix = '',
): Promise<Array<[string, string[]]>> {
  const ranges = await Promise.all(
    testKeys(namespace)
      .streamKeys(stream)
      .map((key) => redis.xrange(`${key}${suffix}`, '-', '+')),
  );
  return ranges.flat().sort(([a], [b]) => compareEntryIds(a, b));
}

function compareEntryIds(a: string, b: string): number {
  const [ams, aseq] = a.split('-').map(BigInt);
  const [bms, bseq] = b.split('-').map(BigInt);
  return ams === bms ? Number(aseq - bseq) : ams < bms ? -1 : 1;
}

/** Every event of a stream (all its partitions), oldest first by entry id, optionally of one type. */
export async function readEvents<T = Record<string, unknown>>(
  redis: Redis,
  namespace: string,
  stream: string,
  type?: string,
): Promise<Array<EventEnvelope<T>>> {
  const entries = await xrangeAll(redis, namespace, stream);
  return entries
    .map(([, fields]) => decodeEnvelope(fields) as EventEnvelope<T>)
    .filter((e) => !type || e.type === type);
}

/** Whether `group` has read every entry of `stream` (every partition) and acknowledged all of them. */
export async function groupCaughtUp(redis: Redis, namespace: string, stream: string, group: string): Promise<boolean> {
  for (const key of testKeys(namespace).streamKeys(stream)) {
    if (!(await partitionCaughtUp(redis, key, group))) return false;
  }
  return true;
}

async function partitionCaughtUp(redis: Redis, key: string, group: string): Promise<boolean> {
  const [last] = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
  if (!last) return true;
  const groups = (await redis.xinfo('GROUPS', key)) as Array<Array<string | number>>;
  const info = groups.map(toRecord).find((g) => g.name === group);
  return !!info && info['last-delivered-id'] === last[0] && Number(info.pending) === 0;
}

function toRecord(flat: Array<string | number>): Record<string, string | number> {
  const record: Record<string, string | number> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[String(flat[i])] = flat[i + 1];
  return record;
}
