import type Redis from 'ioredis';
import type { ChainableCommander } from 'ioredis';
import { fieldsToRecord } from '../envelope/envelope';
import type { EventBusKeys } from '../utils/keys';

/*
 * The dedupe guard's one home: the marker keys (through EventBusKeys.seen), the marker and claim
 * formats, and every script and write that touches them. Acknowledgements, commit(), dead letters,
 * replays, group moves and the operations services call what is exported here.
 */

// KEYS[1..3] the stream's live, redrive and replay keys, KEYS[4..] the shards of the dedupe bucket
// (hashes) the events fall in. ARGV[1] group, ARGV[2] bucket expiry (unix s), ARGV[3] event ids
// joined by "\n", ARGV[4] the claims of their entries, "~<source><entry id>@<ms, base 36>" (source
// l, d or p: KEYS[1..3]) joined by "\n" (one argument each: per-argument cost is what a batch pays
// in the client), ARGV[5] "1" when ARGV[3] and ARGV[4] are single values, ARGV[6] "1" when these
// entries were never delivered to the group before (read with ">"), ARGV[7] the shard of each
// event, one character each: "0" for KEYS[4], "1" for KEYS[5], and so on.
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
local shardOf, byShard = ARGV[7], {}
for i = 1, #ids do
  local s = string.byte(shardOf, i) - 44
  local list = byShard[s]
  if not list then list = {} byShard[s] = list end
  list[#list + 1] = i
end
local values = {}
for s = 4, #KEYS do
  local list = byShard[s]
  if list then
    local names = {}
    for j = 1, #list do names[j] = ids[list[j]] end
    for from = 1, #names, 1000 do
      local chunk = redis.call('HMGET', KEYS[s], unpack(names, from, math.min(from + 999, #names)))
      for j = 1, #chunk do values[list[from + j - 1]] = chunk[j] end
    end
  end
end
local sources = { l = KEYS[1], d = KEYS[2], p = KEYS[3] }
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
        local ok, p = pcall(redis.call, 'XPENDING', sources[string.sub(holder, 2, 2)] or KEYS[1], ARGV[1], entry, entry, 1)
        if ok and p[1] then code = 2 else code = 1 end
      end
    end
  else
    local s = string.byte(shardOf, i) - 44
    local w = writes[s]
    if not w then w = {} writes[s] = w end
    w[#w + 1] = id
    w[#w + 1] = claims[i]
  end
  if code == 0 then
    now[id] = true
  else
    out[#out + 1] = i
    out[#out + 1] = code
  end
end
for s = 4, #KEYS do
  local w = writes[s]
  if w then
    for from = 1, #w, 1000 do
      redis.call('HSET', KEYS[s], unpack(w, from, math.min(from + 999, #w)))
    end
    redis.call('EXPIREAT', KEYS[s], ARGV[2])
  end
end
return out`;

/**
 * KEYS[1] the shard of a dedupe bucket holding the event's marker; ARGV[1] event id, ARGV[2] a
 * claim's holder (`~<source><entry id>`).
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
  /** `numKeys`, then the live, redrive and replay keys and the shards, then ARGV as above. */
  dedupeClaimEvents(numKeys: number, ...keysThenArgs: Array<string | number>): Promise<number[]>;
}

/** The dedupe scripts, queued on a pipeline. */
type DedupePipeline = {
  [K in keyof DedupeCommands]: (...args: Parameters<DedupeCommands[K]>) => ChainableCommander;
};

/** The client, with the dedupe scripts defined on it (once; see EventBusCore: before any command is sent). */
export function withDedupeCommands(redis: Redis): Redis & DedupeCommands {
  const client = redis as Redis & Partial<DedupeCommands>;
  if (!client.dedupeClaimEvents) redis.defineCommand('dedupeClaimEvents', { lua: CLAIM_EVENTS_LUA });
  return client as Redis & DedupeCommands;
}

/** Where the dedupe guard records that a group handled an event. */
export interface Marker {
  /** The shard of the hour bucket: `<ns>:{<stream>}:seen:<group>:<YYYYMMDDHH of the event's time>:<shard>`. */
  key: string;
  /** The event id: the hash field (the dedupe key is group + event id). */
  field: string;
  /** Unix seconds at which the bucket expires: the end of its hour plus the TTL. */
  expireAt: number;
}

/**
 * How many hashes (shards) hold the markers of one (stream partition, group, hour). Redis keeps a
 * hash in its compact listpack encoding up to `hash-max-listpack-entries` fields (128 by default)
 * and each field within `hash-max-listpack-value` bytes (64); past that it becomes a hash table,
 * about twice the bytes a marker. 64 shards keep a bucket compact up to about 128 x 64 = 8,192
 * markers a group and hour per partition; beyond that the fullest shards convert (correct, only
 * larger), and an idle bucket costs at most 64 small keys.
 */
export const SEEN_SHARDS = 64;

/**
 * The shard of an event id's marker: FNV-1a (32 bit) of its UTF-16 code units, mod SEEN_SHARDS.
 * Only the shard comes from the hash: the field is the event id itself, so ids never collide.
 */
export function shardOf(eventId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < eventId.length; i++) h = Math.imul(h ^ eventId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % SEEN_SHARDS;
}

/** The shard hash of `bucket` that holds the marker of `eventId`. */
export function shardKey(bucket: DedupeBucket, eventId: string): string {
  return bucket.shards[shardOf(eventId)];
}

/**
 * A final marker's value: `<handled at, ms in base 36>:<attempts>`, written when an event was
 * handled after a retry or through `context.commit()`.
 */
function markerValue(handledAtMs: number, attempts: number): string {
  return `${handledAtMs.toString(36)}:${attempts}`;
}

/**
 * A marker's time (ms): base 36, or decimal when it is 12 digits or more (a base 36 time of this
 * era has 8 digits); null when the text is neither.
 */
function readTime(text: string): number | null {
  if (/^\d{12,}$/.test(text)) return Number(text);
  if (!/^[0-9a-z]{1,11}$/.test(text)) return null;
  return parseInt(text, 36);
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

/** `~<source><entry id>`: who holds a claim (its value adds `@<claimed at, ms in base 36>`). */
export function claimHolder(source: SourceKind, entryId: string): string {
  return `~${SOURCE_CODE[source]}${entryId}`;
}

/** Reads a marker's value: a final marker, or a claim. */
export function readMarker(value: string | null | undefined): MarkerState | undefined {
  if (typeof value !== 'string') return undefined;
  if (value.startsWith('~')) {
    const sep = value.indexOf('@');
    return {
      kind: 'claimed',
      source: SOURCE_KIND[value[1]] ?? 'live',
      entryId: value.slice(2, sep < 0 ? undefined : sep),
      at: sep < 0 ? null : readTime(value.slice(sep + 1)),
    };
  }
  const sep = value.indexOf(':');
  const at = sep < 0 ? null : readTime(value.slice(0, sep));
  const attempts = sep < 0 ? NaN : Number(value.slice(sep + 1));
  const detailed = at !== null && value.length > sep + 1 && Number.isInteger(attempts);
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

function hourText(hourStart: number): string {
  return new Date(hourStart).toISOString().slice(0, 13).replace(/[-T]/g, '');
}

/** A claim an entry may hold on its event: the shard hash of its bucket, the event id (the field) and the holder text. */
export interface HeldClaim {
  /** The shard of the event's bucket that holds its marker. */
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
  return {
    bucket: keys.seen(stream, group, hourText(hourOf(time)), shardOf(id), k),
    eventId: id,
    holder: claimHolder(kind, entryId),
  };
}

/** Queues on `tx` the release of `claim`: deleted only while that entry still holds it, so its event's copies and redrives run. */
export function queueReleaseClaim(tx: ChainableCommander, claim: HeldClaim): void {
  tx.eval(RELEASE_CLAIM_LUA, 1, claim.bucket, claim.eventId, claim.holder);
}

/**
 * Queues on `tx` the final markers (`<ms>:<attempts>`) of events of one bucket handled after a
 * retry or by commit(): one HSET and EXPIREAT per shard they fall in.
 */
export function queueHandled(
  tx: ChainableCommander,
  bucket: DedupeBucket,
  marks: ReadonlyArray<readonly [eventId: string, attempts: number]>,
  now = Date.now(),
): void {
  const byShard = new Map<string, string[]>();
  for (const [eventId, attempts] of marks) {
    const key = shardKey(bucket, eventId);
    const args = byShard.get(key);
    if (args) args.push(eventId, markerValue(now, attempts));
    else byShard.set(key, [eventId, markerValue(now, attempts)]);
  }
  for (const [key, args] of byShard) {
    tx.hset(key, ...args);
    tx.expireat(key, bucket.expireAt);
  }
}

/** The hashes that hold the markers of one (stream, group, hour of the event's time), shared by its events. */
export interface DedupeBucket {
  /** `<ns>:{<stream>}:seen:<group>:<YYYYMMDDHH>`: the prefix of its shards (no key of its own). */
  key: string;
  /** Its SEEN_SHARDS hashes, `<key>:<shard>`, by shard ({@link shardOf} of the event id). */
  shards: string[];
  /** Unix seconds at which it expires: the end of its hour plus the TTL. */
  expireAt: number;
}

/**
 * The dedupe guard: a group's handlers run for an event id once while its marker lives.
 *
 * Markers are fields of a bucket per (stream, group, hour of the event's `time`), split into
 * SEEN_SHARDS small hashes by a hash of the event id (the field stays the id), so every copy of an
 * event (a resent XADD, a replay, a redrive: all carry the original `time`) looks in the same
 * place, each hash stays in Redis's compact listpack encoding, and an EXPIREAT per shard ages a
 * whole hour out, much cheaper for Redis than a key with a TTL per event. An event is
 * deduplicated while its time is within `ttlMs` (plus the rest of its hour) of now.
 *
 * Each read batch claims its events in Redis with one script call per bucket (all the shards its
 * events fall in are keys of that call: they share the stream's hash tag), before any of them
 * runs (event and entry ids go joined into one argument each: per-argument work is what a batch
 * costs the client). An event nobody holds is claimed for its entry, `~<source><entry id>@<ms>`
 * (the time in base 36),
 * and runs. The claim then stands for the outcome: once its entry is acknowledged (and it was
 * not dead-lettered: a dead letter releases its claim in the same MULTI) the event counts as
 * handled, so a first-attempt success writes nothing more. A final marker `<ms>:<attempts>` is
 * written (the time in base 36) only after a retry or by `context.commit()`. A copy finding the event claimed by an
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
    const bucket = this.bucket(stream, group, eventTime, k);
    return { key: shardKey(bucket, eventId), field: eventId, expireAt: bucket.expireAt };
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
      const hour = hourText(hourStart);
      bucket = {
        key: this.keys.seen(stream, group, hour, undefined, k),
        shards: Array.from({ length: SEEN_SHARDS }, (_, shard) => this.keys.seen(stream, group, hour, shard, k)),
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
   * Claims the events of a read batch for their entries (one script call per bucket, with the
   * shards its events fall in as keys); the verdict
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
        const at = `@${Date.now().toString(36)}`;
        const idList = new Array<string>(indexes.length);
        const entryList = new Array<string>(indexes.length);
        // NOTE: the shard keys this call touches, and per event one character naming its key among them.
        const shards = first.bucket!.shards;
        const position = new Map<number, number>();
        const shardKeys: string[] = [];
        let shardText = '';
        for (let j = 0; j < indexes.length; j++) {
          const r = requests[indexes[j]];
          idList[j] = r.envelope!.id;
          entryList[j] = r.entryId;
          const shard = shardOf(idList[j]);
          let p = position.get(shard);
          if (p === undefined) {
            position.set(shard, (p = shardKeys.length));
            shardKeys.push(shards[shard]);
          }
          shardText += String.fromCharCode(48 + p);
        }
        // NOTE: the claim text of every entry, built by the join itself (no string per entry).
        const ids = single === '1' ? idList[0] : idList.join('\n');
        const claims = prefix + (single === '1' ? entryList[0] : entryList.join(`${at}\n${prefix}`)) + at;
        // NOTE: an explicit pipeline is written at once: an auto-pipelined call would wait for the
        // client's auto-pipeline in flight (ioredis sends one at a time), i.e. behind publishes.
        const [[error, answer]] = (await (this.scripts.pipeline() as ChainableCommander & DedupePipeline)
          .dedupeClaimEvents(
            3 + shardKeys.length,
            this.keys.stream(first.source.stream, k),
            this.keys.redrive(first.source.stream, group, k),
            this.keys.replay(first.source.stream, group, k),
            ...shardKeys,
            group,
            first.bucket!.expireAt,
            ids,
            claims,
            single,
            first.deliveryCount === 1 ? '1' : '0',
            shardText,
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
