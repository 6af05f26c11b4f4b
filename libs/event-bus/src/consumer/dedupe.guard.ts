import type Redis from 'ioredis';
import type { EventBusKeys } from '../utils/keys';

/** Where the dedupe guard records that a group handled an event. */
export interface Marker {
  /** The hour bucket hash: `<ns>:{<stream>}:seen:<group>:<YYYYMMDDHH of the event's time>`. */
  key: string;
  /** The event id. */
  field: string;
  /** Unix seconds at which the bucket expires: the end of its hour plus the TTL. */
  expireAt: number;
  /** `key field`, the marker's identity in memory. */
  id: string;
  /** Deliveries it took, set when the event is acknowledged (recorded in the marker's value). */
  attempts?: number;
}

/**
 * A marker's value: `<handled at, ms>:<attempts>`, so the flow view can tell when and after how
 * many deliveries a group handled an event. (Markers written before this format hold `1`.)
 */
export function markerValue(handledAtMs: number, attempts: number): string {
  return `${handledAtMs}:${attempts}`;
}

const HOUR_MS = 3_600_000;

/**
 * The dedupe guard: a group's handlers run for an event id once while its marker lives.
 *
 * Markers are fields of one hash per (stream, group, hour of the event's `time`), so every copy
 * of an event (a resent XADD, a replay, a redrive: all carry the original `time`) looks in the
 * same place, one HSET marks a whole batch and one EXPIREAT ages a whole hour out, much cheaper
 * for Redis than a key with a TTL per event. An event is deduplicated while its time is within
 * `ttlMs` (plus the rest of its hour) of now. A marker is written only with the acknowledgement
 * of a successful delivery (same MULTI) and read for a whole read batch with one HMGET per bucket.
 *
 * Within one consumer, the caller closes the gaps a batch read leaves: two copies of one event
 * held at once are serialised until the first is acknowledged, and a copy whose batch was read
 * before the first copy's marker went out is recognised (see SentMarkers). Two copies held by two
 * instances at the same moment can both run: handlers whose effect must be exactly-once keep
 * their own per-business-key check inside `context.commit()`.
 */
export class DedupeGuard {
  constructor(
    private readonly redis: Redis,
    private readonly keys: EventBusKeys,
    readonly ttlMs: number,
  ) {}

  /** Bucket key and expiry by `<stream> <group> <hour prefix of the time text>`, computed once per hour. */
  private readonly buckets = new Map<string, { key: string; expireAt: number }>();

  marker(stream: string, group: string, eventId: string, eventTime: string): Marker {
    // NOTE: RFC 3339 UTC times (what publishers write) share their first 13 characters within an hour.
    const utc = eventTime.length >= 20 && eventTime.endsWith('Z') && eventTime[10] === 'T';
    const cacheKey = `${stream} ${group} ${utc ? eventTime.slice(0, 13) : eventTime}`;
    let bucket = this.buckets.get(cacheKey);
    if (!bucket) {
      const parsed = Date.parse(eventTime);
      const at = Number.isFinite(parsed) ? parsed : Date.now();
      const hourStart = at - (at % HOUR_MS);
      const hour = new Date(hourStart).toISOString().slice(0, 13).replace(/[-T]/g, '');
      bucket = { key: this.keys.seen(stream, group, hour), expireAt: Math.ceil((hourStart + HOUR_MS + this.ttlMs) / 1000) };
      if (this.buckets.size > 1000) this.buckets.clear();
      this.buckets.set(cacheKey, bucket);
    }
    return { key: bucket.key, field: eventId, expireAt: bucket.expireAt, id: `${bucket.key} ${eventId}` };
  }

  /** For each marker: has its event been handled by this group? (one HMGET per bucket) */
  async handledMany(markers: Marker[]): Promise<boolean[]> {
    const byKey = new Map<string, number[]>();
    markers.forEach((m, i) => {
      const at = byKey.get(m.key);
      if (at) at.push(i);
      else byKey.set(m.key, [i]);
    });
    const out = new Array<boolean>(markers.length).fill(false);
    await Promise.all(
      [...byKey].map(async ([key, indexes]) => {
        // NOTE: Buffer replies: only null or not matters here, so no value is decoded.
        const values = await this.redis.hmgetBuffer(key, ...indexes.map((i) => markers[i].field));
        indexes.forEach((i, j) => (out[i] = values[j] !== null));
      }),
    );
    return out;
  }

  async handled(marker: Marker): Promise<boolean> {
    return (await this.redis.hexists(marker.key, marker.field)) === 1;
  }
}
