import type Redis from 'ioredis';
import type { ChainableCommander } from 'ioredis';
import { fieldsToRecord } from '../envelope/envelope';
import type { EventBusKeys } from '../utils/keys';

/*
 * The dedupe guard's one home: the marker keys (through EventBusKeys.seen), the marker and claim
 * formats, and every script and write that touches them. Acknowledgements, commit(), dead letters,
 * replays, group moves and the operations services call what is exported here.
 */

// KEYS[1] the dedupe bucket (hash), KEYS[2..4] the stream's live, redrive and replay keys.
// ARGV[1] group, ARGV[2] bucket expiry (unix s), ARGV[3] event ids joined by "\n", ARGV[4] the
// claims of their entries, "~<source><entry id>@<ms>" (source l, d or p: KEYS[2..4]) joined by
// "\n" (one argument each: per-argument cost is what a batch pays in the client), ARGV[5] "1"
// when ARGV[3] and ARGV[4] are single values, ARGV[6] "1" when these entries were never
// delivered to the group before (read with ">").
// An event nobody holds is claimed (the claim is written) and runs; a redelivery of the entry
// holding it runs again. Answers [index, 1] for an event handled already: a final marker, a
// claim whose entry is no longer pending (acknowledged: claims of dead letters are released),
// or its own claim on a first delivery (the group was moved back over it); [index, 2] for an
// event claimed by another entry still pending (a copy in flight: wait, then ask again).
const CLAIM_EVENTS_LUA = `
local function split(text, out)
  local from, n = 1, 0
  while true do
    local at = string.find(text, '\\n', from, true)
    n = n + 1
    if not at then out[n] = string.sub(text, from) return out end
    out[n] = string.sub(text, from, at - 1)
    from = at + 1
  end
end
local ids, claims = {}, {}
if ARGV[5] == '1' then
  ids[1], claims[1] = ARGV[3], ARGV[4]
else
  split(ARGV[3], ids)
  split(ARGV[4], claims)
end
local values
if #ids <= 1000 then
  values = redis.call('HMGET', KEYS[1], unpack(ids))
else
  values = {}
  for from = 1, #ids, 1000 do
    local chunk = redis.call('HMGET', KEYS[1], unpack(ids, from, math.min(from + 999, #ids)))
    for i = 1, #chunk do values[from + i - 1] = chunk[i] end
  end
end
local sources = { l = KEYS[2], d = KEYS[3], p = KEYS[4] }
local fresh = ARGV[6] == '1'
local writes, out, now = {}, {}, {}
for i = 1, #ids do
  local id, v = ids[i], values[i]
  local code = 0
  if now[id] then
    code = 2
  elseif v then
    if string.byte(v, 1) ~= 126 then
      code = 1
    else
      local mine = claims[i]
      local holder = string.sub(v, 1, (string.find(v, '@', 3, true) or (#v + 1)) - 1)
      if holder == string.sub(mine, 1, #holder) and string.byte(mine, #holder + 1) == 64 then
        if fresh then code = 1 end
      else
        local entry = string.sub(holder, 3)
        local ok, p = pcall(redis.call, 'XPENDING', sources[string.sub(holder, 2, 2)] or KEYS[2], ARGV[1], entry, entry, 1)
        if ok and p[1] then code = 2 else code = 1 end
      end
    end
  else
    writes[#writes + 1] = id
    writes[#writes + 1] = claims[i]
  end
  if code == 0 then
    now[id] = true
  else
    out[#out + 1] = i
    out[#out + 1] = code
  end
end
for from = 1, #writes, 1000 do
  redis.call('HSET', KEYS[1], unpack(writes, from, math.min(from + 999, #writes)))
end
if #writes > 0 then redis.call('EXPIREAT', KEYS[1], ARGV[2]) end
return out`;

/**
 * KEYS[1] a dedupe bucket; ARGV[1] event id, ARGV[2] a claim's holder (`~<source><entry id>`).
 * Deletes the event's claim if that entry holds it (a dead letter lets its copies run). Sent
 * with EVAL inside a MULTI: rare, and no script cache to miss after a restart.
 */
const RELEASE_CLAIM_LUA = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and string.sub(v, 1, #ARGV[2] + 1) == ARGV[2] .. '@' then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0`;

/** What claimEvents answers for an event: run it (claimed), handled already, or held by a copy in flight. */
const CLAIM_HANDLED = 1;
const CLAIM_HELD = 2;

interface DedupeCommands {
  dedupeClaimEvents(
    bucket: string,
    live: string,
    redrive: string,
    replay: string,
    group: string,
    expireAt: number,
    ids: string,
    claims: string,
    single: '1' | '0',
    fresh: '1' | '0',
  ): Promise<number[]>;
}

/** The dedupe scripts, queued on a pipeline. */
type DedupePipeline = {
  [K in keyof DedupeCommands]: (...args: Parameters<DedupeCommands[K]>) => ChainableCommander;
};

/** The client, with the dedupe scripts defined on it (once; see EventBusCore: before any command is sent). */
export function withDedupeCommands(redis: Redis): Redis & DedupeCommands {
  const client = redis as Redis & Partial<DedupeCommands>;
  if (!client.dedupeClaimEvents) redis.defineCommand('dedupeClaimEvents', { numberOfKeys: 4, lua: CLAIM_EVENTS_LUA });
  return client as Redis & DedupeCommands;
}

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
function markerValue(handledAtMs: number, attempts: number): string {
  return `${handledAtMs}:${attempts}`;
}

/** What a marker's value says, for readers such as the flow view. */
export type MarkerState =
  | { kind: 'handled'; at: number | null; attempts: number | null }
  /** Claimed by an entry at `at` (ms): handled once that entry is acknowledged, unless it was dead-lettered. */
  | { kind: 'claimed'; source: SourceKind; entryId: string; at: number | null };

/** Where a consumer read an entry: the live stream, or the group's redrive or replay stream. */
export type SourceKind = 'live' | 'redrive' | 'replay';

const SOURCE_CODE: Record<SourceKind, string> = { live: 'l', redrive: 'd', replay: 'p' };
const SOURCE_KIND: Record<string, SourceKind> = { l: 'live', d: 'redrive', p: 'replay' };

/** `~<source><entry id>`: who holds a claim (its value adds `@<claimed at ms>`). */
export function claimHolder(source: SourceKind, entryId: string): string {
  return `~${SOURCE_CODE[source]}${entryId}`;
}

/** Reads a marker's value: a final marker, or a claim. */
export function readMarker(value: string | null | undefined): MarkerState | undefined {
  if (typeof value !== 'string') return undefined;
  if (value.startsWith('~')) {
    const sep = value.indexOf('@');
    const at = sep < 0 ? NaN : Number(value.slice(sep + 1));
    return {
      kind: 'claimed',
      source: SOURCE_KIND[value[1]] ?? 'live',
      entryId: value.slice(2, sep < 0 ? undefined : sep),
      at: Number.isFinite(at) ? at : null,
    };
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
  source: { stream: string; kind: SourceKind } & { partition?: number };
  entryId: string;
  /** 1: never delivered to the group before (read with `>`). */
  deliveryCount: number;
}

const HOUR_MS = 3_600_000;

/** The start of the hour of `eventTime` (ms), or of now when the time cannot be read. */
function hourOf(eventTime: string): number {
  const parsed = Date.parse(eventTime);
  const at = Number.isFinite(parsed) ? parsed : Date.now();
  return at - (at % HOUR_MS);
}

function bucketKey(keys: EventBusKeys, stream: string, group: string, hourStart: number, k = 0): string {
  return keys.seen(stream, group, new Date(hourStart).toISOString().slice(0, 13).replace(/[-T]/g, ''), k);
}

/** A claim an entry may hold on its event: the bucket, the event id (the field) and the holder text. */
export interface HeldClaim {
  bucket: string;
  eventId: string;
  /** `~<source><entry id>` */
  holder: string;
}

/**
 * The claim the entry `entryId` (read from a `kind` source of `stream`) may hold on its event in
 * `group`, from the entry's own fields (`id`, `time`); undefined when they are missing.
 */
export function claimOfEntry(
  keys: EventBusKeys,
  stream: string,
  group: string,
  kind: SourceKind,
  entryId: string,
  fields: string[],
  k = 0,
): HeldClaim | undefined {
  const { id, time } = fieldsToRecord(fields);
  if (!id || !time) return undefined;
  return { bucket: bucketKey(keys, stream, group, hourOf(time), k), eventId: id, holder: claimHolder(kind, entryId) };
}

/** Queues on `tx` the release of `claim`: deleted only while that entry still holds it, so its event's copies and redrives run. */
export function queueReleaseClaim(tx: ChainableCommander, claim: HeldClaim): void {
  tx.eval(RELEASE_CLAIM_LUA, 1, claim.bucket, claim.eventId, claim.holder);
}

/** Queues on `tx` the final markers (`<ms>:<attempts>`) of events of one bucket handled after a retry or by commit(). */
export function queueHandled(
  tx: ChainableCommander,
  bucket: DedupeBucket,
  marks: ReadonlyArray<readonly [eventId: string, attempts: number]>,
  now = Date.now(),
): void {
  const args: string[] = [];
  for (const [eventId, attempts] of marks) args.push(eventId, markerValue(now, attempts));
  tx.hset(bucket.key, ...args);
  tx.expireat(bucket.key, bucket.expireAt);
}

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
  private readonly scripts: Redis & DedupeCommands;

  constructor(
    private readonly redis: Redis,
    private readonly keys: EventBusKeys,
    readonly ttlMs: number,
  ) {
    this.scripts = withDedupeCommands(redis);
  }

  /** Bucket key and expiry by `<stream> <group> <hour prefix of the time text>`, computed once per hour. */
  private readonly buckets = new Map<string, DedupeBucket>();
  /** The bucket the last marker fell in: consecutive events mostly share it (no key text per event). */
  private last?: { bucket: DedupeBucket; stream: string; group: string; prefix: string; k: number };

  /** The marker of `eventId` (for a reader such as the flow view). */
  marker(stream: string, group: string, eventId: string, eventTime: string, k = 0): Marker {
    const { key, expireAt } = this.bucket(stream, group, eventTime, k);
    return { key, field: eventId, expireAt };
  }

  /** The bucket of an event by its time; the same object for every event of that hour (no allocation per event). */
  bucket(stream: string, group: string, eventTime: string, k = 0): DedupeBucket {
    const last = this.last;
    if (
      last &&
      eventTime.startsWith(last.prefix) &&
      eventTime.endsWith('Z') &&
      eventTime.length >= 20 &&
      last.stream === stream &&
      last.group === group &&
      last.k === k
    ) {
      return last.bucket;
    }
    // NOTE: RFC 3339 UTC times (what publishers write) share their first 13 characters within an hour.
    const utc = eventTime.length >= 20 && eventTime.endsWith('Z') && eventTime[10] === 'T';
    const prefix = utc ? eventTime.slice(0, 13) : eventTime;
    const cacheKey = `${stream} ${group} ${k} ${prefix}`;
    let bucket = this.buckets.get(cacheKey);
    if (!bucket) {
      const hourStart = hourOf(eventTime);
      bucket = {
        key: bucketKey(this.keys, stream, group, hourStart, k),
        expireAt: Math.ceil((hourStart + HOUR_MS + this.ttlMs) / 1000),
      };
      if (this.buckets.size > 1000) this.buckets.clear();
      this.buckets.set(cacheKey, bucket);
    }
    // NOTE: only a UTC (`...Z`) prefix stands for a whole hour.
    this.last = utc ? { bucket, stream, group, prefix, k } : undefined;
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
        const k = first.source.partition ?? 0;
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
        // NOTE: an explicit pipeline is written at once: an auto-pipelined call would wait for the
        // client's auto-pipeline in flight (ioredis sends one at a time), i.e. behind publishes.
        const [[error, answer]] = (await (this.scripts.pipeline() as ChainableCommander & DedupePipeline)
          .dedupeClaimEvents(
            first.bucket!.key,
            this.keys.stream(first.source.stream, k),
            this.keys.redrive(first.source.stream, group, k),
            this.keys.replay(first.source.stream, group, k),
            group,
            first.bucket!.expireAt,
            ids,
            claims,
            single,
            first.deliveryCount === 1 ? '1' : '0',
          )
          .exec())! as [[Error | null, number[]]];
        if (error) throw error;
        for (let j = 0; j < answer.length; j += 2)
          out[indexes[Number(answer[j]) - 1]] =
            Number(answer[j + 1]) === CLAIM_HANDLED ? 'handled' : Number(answer[j + 1]) === CLAIM_HELD ? 'held' : 'run';
      }),
    );
    return out;
  }

  /** Claims one event for its entry (a delivery whose batch claim failed, or a copy asking again). */
  async claim(group: string, request: ClaimRequest): Promise<ClaimVerdict> {
    return (await this.claimMany(group, [request]))[0];
  }
}
