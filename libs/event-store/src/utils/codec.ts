import type { Event, EventMetadata, RecordedEvent } from '../interfaces/event.interface';

/** `type`, `data` and `metadata` of one event as the append script takes them. */
export function encodeEvent(event: Event, shared: EventMetadata | undefined): [string, string, string] {
  const metadata = shared || event.metadata ? { ...shared, ...event.metadata } : {};
  return [event.type, JSON.stringify(event.data), JSON.stringify(metadata)];
}

/** A stream entry (`0-<version>`, flat fields) as a recorded event. */
export function decodeEntry<E extends Event = Event>(
  streamName: string,
  entryId: string,
  fields: string[],
): RecordedEvent<E> {
  let type = '';
  let data = 'null';
  let metadata = '{}';
  let time = '';
  let version = 0;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1];
    switch (fields[i]) {
      case 'type':
        type = value;
        break;
      case 'data':
        data = value;
        break;
      case 'metadata':
        metadata = value;
        break;
      case 'time':
        time = value;
        break;
      case 'version':
        version = Number(value);
        break;
    }
  }
  return {
    type,
    data: JSON.parse(data) as E['data'],
    metadata: metadata === '{}' ? {} : (JSON.parse(metadata) as EventMetadata),
    streamName,
    version,
    time,
    entryId,
  } as RecordedEvent<E>;
}

/** A time as the store writes it (`toISOString`), for comparisons with recorded times. */
export function normalizeTime(time: string | Date): string {
  const ms = time instanceof Date ? time.getTime() : Date.parse(time);
  if (!Number.isFinite(ms)) throw new RangeError(`"${String(time)}" is not an ISO 8601 time`);
  const iso = new Date(ms).toISOString();
  if (iso.length !== 24) throw new RangeError(`"${String(time)}" is outside the years 0000-9999`);
  return iso;
}
