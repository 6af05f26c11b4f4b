import type Redis from 'ioredis';
import type { EventBusKeys } from '../utils/keys';
import { CLAIM_HANDLED, CLAIM_HELD, withConsumerScripts } from './consumer-scripts';
import type { ConsumerScripts } from './consumer-scripts';
import type { Source } from './delivery';

/** Where the dedupe guard records that a group handled an event. */
export interface Marker {
  /** The hour bucket hash: `<ns>:{<stream>}:seen:<group>:<YYYYMMDDHH of the event's time>`. */
  key: string;
  /** The event id: the hash field (the dedupe key is group + event id). */
  field: string;
  /** Unix seconds at which the bucket expires: the end of its hour plus the TTL. */
  expireAt: number;
}

/**
 * A final marker's value: `<handled at, ms>:<attempts>`, written when an event was handled after
 * a retry or through `context.commit()`. (Markers written before this format hold `1`.)
 */
export function markerValue(handledAtMs: number, attempts: number): string {
  return `${handledAtMs}:${attempts}`;
}

/** What a marker's value says, for readers such as the flow view. */
export type MarkerState =
  | { kind: 'handled'; at: number | null; attempts: number | null }
  /** Claimed by an entry at `at` (ms): handled once that entry is acknowledged, unless it was dead-lettered. */
  | { kind: 'claimed'; source: Source['kind']; entryId: string; at: number | null };

const SOURCE_CODE: Record<Source['kind'], string> = { live: 'l', redrive: 'd', replay: 'p' };
const SOURCE_KIND: Record<string, Source['kind']> = { l: 'live', d: 'redrive', p: 'replay' };

/** `~<source><entry id>`: who holds a claim (its value adds `@<claimed at ms>`). */
export function claimHolder(source: Source['kind'], entryId: string): string {
  return `~${SOURCE_CODE[source]}${entryId}`;
}

/** Reads a marker's value: a final marker, or a claim. */
export function readMarker(value: string | null | undefined): MarkerState | undefined {
  if (typeof value !== 'string') return undefined;
  if (value.startsWith('~')) {
    const sep = value.indexOf('@');
    const at = sep < 0 ? NaN : Number(value.slice(sep + 1));
    return { kind: 'claimed', source: SOURCE_KIND[value[1]] ?? 'live', entryId: value.slice(2, sep < 0 ? undefined : sep), at: Number.isFinite(at) ? at : null };
  }
  const [at, attempts] = value.split(':').map(Number);
  const detailed = value.includes(':') && Number.isFinite(at) && Number.isFinite(attempts);
  return { kind: 'handled', at: detailed ? at : null, attempts: detailed ? attempts : null };
}

/** What the guard says about one delivery of an event: run it, skip it as handled, or wait for the copy in flight. */
export type ClaimVerdict = 'run' | 'handled' | 'held';

/** One delivery to claim (a consumer's Delivery is one): its event's bucket and id, and where it was read from. */
export interface ClaimRequest {
  bucket?: DedupeBucket;
  envelope?: { id: string };
  source: Pick<Source, 'stream' | 'kind'>;
  entryId: string;
  /** 1: never delivered to the group before (read with `>`). */
  deliveryCount: number;
}

const HOUR_MS = 3_600_000;

/** The hash that holds the markers of one (stream, group, hour of the event's time), shared by its events. */
export interface DedupeBucket {
  /** `<ns>:{<stream>}:seen:<group>:<YYYYMMDDHH>` */
  key: string;
  /** Unix seconds at which it expires: the end of its hour plus the TTL. */
  expireAt: number;
}

/**
 * The dedupe guard: a group's handlers run for an event id once while its marker lives.
 *
 * Markers are fields of one hash per (stream, group, hour of the event's `time`), so every copy
 * of an event (a resent XADD, a replay, a redrive: all carry the original `time`) looks in the
 * same place, and one EXPIREAT ages a whole hour out, much cheaper for Redis than a key with a
 * TTL per event. An event is deduplicated while its time is within `ttlMs` (plus the rest of its
 * hour) of now.
 *
 * Each read batch claims its events in Redis with one script call per bucket, before any of them
 * runs (event and entry ids go joined into one argument each: per-argument work is what a batch
 * costs the client). An event nobody holds is claimed for its entry, `~<source><entry id>@<ms>`,
 * and runs. The claim then stands for the outcome: once its entry is acknowledged (and it was
 * not dead-lettered: a dead letter releases its claim in the same MULTI) the event counts as
 * handled, so a first-attempt success writes nothing more. A final marker `<ms>:<attempts>` is
 * written only after a retry or by `context.commit()`. A copy finding the event claimed by an
 * entry still pending (a copy in flight, here or on another instance) waits and asks again.
 * Because Redis decides atomically, two copies can never both run, whichever instance holds them,
 * and no consumer keeps per-event state in memory.
 *
 * An entry's own claim on a first delivery means the group was moved back over it: skipped as
 * handled. ReplayService.moveGroup releases the claims of the entries still pending in the range
 * it moves over, so none of them is skipped unhandled. An entry trimmed while pending leaves its
 * claim: later copies of that event count as handled.
 */
export class DedupeGuard {
  private readonly scripts: Redis & ConsumerScripts;

  constructor(
    private readonly redis: Redis,
    private readonly keys: EventBusKeys,
    readonly ttlMs: number,
  ) {
    this.scripts = withConsumerScripts(redis);
  }

  /** Bucket key and expiry by `<stream> <group> <hour prefix of the time text>`, computed once per hour. */
  private readonly buckets = new Map<string, DedupeBucket>();
  /** The bucket the last marker fell in: consecutive events mostly share it (no key text per event). */
  private last?: { bucket: DedupeBucket; stream: string; group: string; prefix: string };

  /** The marker of `eventId` (for a reader such as the flow view). */
  marker(stream: string, group: string, eventId: string, eventTime: string): Marker {
    const { key, expireAt } = this.bucket(stream, group, eventTime);
    return { key, field: eventId, expireAt };
  }

  /** The bucket of an event by its time; the same object for every event of that hour (no allocation per event). */
  bucket(stream: string, group: string, eventTime: string): DedupeBucket {
    const last = this.last;
    if (last && eventTime.startsWith(last.prefix) && eventTime.endsWith('Z') && eventTime.length >= 20 && last.stream === stream && last.group === group) {
      return last.bucket;
    }
    // NOTE: RFC 3339 UTC times (what publishers write) share their first 13 characters within an hour.
    const utc = eventTime.length >= 20 && eventTime.endsWith('Z') && eventTime[10] === 'T';
    const prefix = utc ? eventTime.slice(0, 13) : eventTime;
    const cacheKey = `${stream} ${group} ${prefix}`;
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
    // NOTE: only a UTC (`...Z`) prefix stands for a whole hour.
    this.last = utc ? { bucket, stream, group, prefix } : undefined;
    return bucket;
  }

  /**
   * Claims the events of a read batch for their entries (one script call per bucket); the verdict
   * for each request, in order.
   */
  async claimMany(group: string, requests: ClaimRequest[]): Promise<ClaimVerdict[]> {
    const out = new Array<ClaimVerdict>(requests.length).fill('run');
    // NOTE: one call per (source, bucket, first delivery or not); sources and bucket keys are shared
    // objects, so no text is built per event.
    const bySource = new Map<ClaimRequest['source'], Map<string, number[]>>();
    const alone: number[][] = [];
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i];
      // NOTE: an id holding the separator goes on its own (ids are UUIDs or ULIDs by contract; a foreign client may differ).
      if (r.envelope!.id.includes('\n')) {
        alone.push([i]);
        continue;
      }
      let byKey = bySource.get(r.source);
      if (!byKey) bySource.set(r.source, (byKey = new Map()));
      const key = r.deliveryCount === 1 ? r.bucket!.key : `${r.bucket!.key} again`;
      const at = byKey.get(key);
      if (at) at.push(i);
      else byKey.set(key, [i]);
    }
    const calls = alone;
    for (const byKey of bySource.values()) for (const indexes of byKey.values()) calls.push(indexes);
    await Promise.all(
      calls.map(async (indexes) => {
        const first = requests[indexes[0]];
        const single = indexes.length === 1 ? '1' : '0';
        const prefix = claimHolder(first.source.kind, '');
        const at = `@${Date.now()}`;
        let ids = first.envelope!.id;
        let claims = prefix + first.entryId + at;
        if (single === '0') {
          const idList = new Array<string>(indexes.length);
          const entryList = new Array<string>(indexes.length);
          for (let j = 0; j < indexes.length; j++) {
            idList[j] = requests[indexes[j]].envelope!.id;
            entryList[j] = requests[indexes[j]].entryId;
          }
          ids = idList.join('\n');
          // NOTE: the claim text of every entry, built by the join itself (no string per entry).
          claims = prefix + entryList.join(`${at}\n${prefix}`) + at;
        }
        const answer = await this.scripts.claimEvents(
          first.bucket!.key, this.keys.stream(first.source.stream), this.keys.redrive(first.source.stream, group), this.keys.replay(first.source.stream, group),
          group, first.bucket!.expireAt, ids, claims, single, first.deliveryCount === 1 ? '1' : '0',
        );
        for (let j = 0; j < answer.length; j += 2) out[indexes[Number(answer[j]) - 1]] = Number(answer[j + 1]) === CLAIM_HANDLED ? 'handled' : Number(answer[j + 1]) === CLAIM_HELD ? 'held' : 'run';
      }),
    );
    return out;
  }

  /** Claims one event for its entry (a delivery whose batch claim failed, or a copy asking again). */
  async claim(group: string, request: ClaimRequest): Promise<ClaimVerdict> {
    return (await this.claimMany(group, [request]))[0];
  }
}
