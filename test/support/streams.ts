import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { decodeEnvelope, encodeEnvelope, EventEnvelope } from '@app/event-bus';

/** An event as a foreign service would XADD it. */
export interface RawEvent {
  stream: string;
  type: string;
  data: object;
  id?: string;
  source?: string;
  subject?: string;
}

/** XADDs one CloudEvents entry with a raw client; returns the envelope written. */
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
  await redis.xadd(`${namespace}:{${event.stream}}`, '*', ...encodeEnvelope(envelope));
  return envelope;
}

/** Every event of a stream, oldest first, optionally of one type. */
export async function readEvents<T = Record<string, unknown>>(redis: Redis, namespace: string, stream: string, type?: string): Promise<Array<EventEnvelope<T>>> {
  const entries = await redis.xrange(`${namespace}:{${stream}}`, '-', '+');
  return entries.map(([, fields]) => decodeEnvelope(fields) as EventEnvelope<T>).filter((e) => !type || e.type === type);
}

/** Whether `group` has read every entry of `stream` and acknowledged all of them. */
export async function groupCaughtUp(redis: Redis, namespace: string, stream: string, group: string): Promise<boolean> {
  const key = `${namespace}:{${stream}}`;
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
