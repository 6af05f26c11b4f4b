import type Redis from 'ioredis';

/**
 * The store's Lua scripts. Each is one atomic command over keys of one hash tag (a stream, its
 * meta and its snapshot), so it stays legal in Redis Cluster.
 */

/** Lua: a stream's version; its meta hash, else (meta lost) the last entry id `0-<version>`. */
const CURRENT_VERSION = `
local function current_version(stream, meta)
  local v = redis.call('HGET', meta, 'version')
  if v then return tonumber(v) end
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  if last[1] then return tonumber(string.match(last[1][1], '^0%-(%d+)$')) end
  return 0
end
local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return false
end
`;

/** Lua: epoch ms to ISO 8601 UTC, exactly as JavaScript's `Date#toISOString` (years 0-9999). */
export const ISO_TIME_LUA = `
local function iso_time(ms)
  local secs = math.floor(ms / 1000)
  local milli = ms - secs * 1000
  local days = math.floor(secs / 86400)
  local rem = secs - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d, math.floor(rem / 3600), math.floor(rem / 60) % 60, rem % 60, milli)
end
`;

const SCRIPTS = {
  // KEYS[1] stream, KEYS[2] meta; ARGV[1] expected version ('any' | 'no-stream' | digits),
  // then type, data, metadata of each event. Returns {1, version, time} or, on a version
  // mismatch, {0, actual version} having written nothing. The stream's time never goes back.
  esAppend: {
    numberOfKeys: 2,
    lua: `${CURRENT_VERSION}${ISO_TIME_LUA}
local current = current_version(KEYS[1], KEYS[2])
local expected = ARGV[1]
if expected == 'no-stream' then
  if current ~= 0 then return {0, current} end
elseif expected ~= 'any' then
  if current ~= tonumber(expected) then return {0, current} end
end
local n = (#ARGV - 1) / 3
if n == 0 then return {1, current, ''} end
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local last = tonumber(redis.call('HGET', KEYS[2], 'timeMs') or '0')
if ms < last then ms = last end
local time = iso_time(ms)
for i = 1, n do
  local at = 2 + (i - 1) * 3
  redis.call('XADD', KEYS[1], '0-' .. (current + i), 'type', ARGV[at], 'data', ARGV[at + 1], 'version', current + i, 'time', time, 'metadata', ARGV[at + 2])
end
redis.call('HSET', KEYS[2], 'version', current + n, 'timeMs', ms)
return {1, current + n, time}`,
  },

  // KEYS[1] stream, KEYS[2] meta, KEYS[3] snapshot; ARGV[1] schema version ('' = no snapshot),
  // ARGV[2] last version wanted ('' = the end), ARGV[3] page size. Returns {stream version,
  // last version to load, snapshot version, snapshot state, snapshot time, first page of entries
  // after the snapshot}. A snapshot of another schema version, or past what is wanted (or past
  // the stream itself), is ignored.
  esLoad: {
    numberOfKeys: 3,
    lua: `${CURRENT_VERSION}
local current = current_version(KEYS[1], KEYS[2])
local upto = current
if ARGV[2] ~= '' and tonumber(ARGV[2]) < upto then upto = tonumber(ARGV[2]) end
local sv, state, stime = false, false, false
local from = 1
if ARGV[1] ~= '' then
  local s = redis.call('HMGET', KEYS[3], 'version', 'schemaVersion', 'state', 'time')
  local v = tonumber(s[1])
  if v and s[2] == ARGV[1] and v <= upto then
    sv, state, stime = s[1], s[3], s[4]
    from = v + 1
  end
end
local entries = {}
if from <= upto then
  entries = redis.call('XRANGE', KEYS[1], '0-' .. from, '0-' .. upto, 'COUNT', tonumber(ARGV[3]))
end
return {current, upto, sv, state, stime, entries}`,
  },

  // KEYS[1] stream, KEYS[2] meta, KEYS[3] snapshot; ARGV[1] version, ARGV[2] schema version,
  // ARGV[3] state JSON, ARGV[4] time of the event at that version, ARGV[5] written at.
  // Returns {1, stream version} written; {2, stored version} kept (the stored snapshot of the same
  // schema is at or past it); {0, stream version} refused: the stream has not reached that version.
  esWriteSnapshot: {
    numberOfKeys: 3,
    lua: `${CURRENT_VERSION}
local current = current_version(KEYS[1], KEYS[2])
local v = tonumber(ARGV[1])
if v > current then return {0, current} end
local s = redis.call('HMGET', KEYS[3], 'version', 'schemaVersion')
if s[1] and s[2] == ARGV[2] and tonumber(s[1]) >= v then return {2, tonumber(s[1])} end
redis.call('HSET', KEYS[3], 'version', ARGV[1], 'schemaVersion', ARGV[2], 'state', ARGV[3], 'time', ARGV[4], 'writtenAt', ARGV[5])
return {1, current}`,
  },

  // KEYS[1] stream, KEYS[2] meta; ARGV[1] ISO 8601 time as toISOString writes it. The last version
  // recorded at or before it (0: none), by binary search (times never decrease within a stream,
  // and ISO strings of that form sort as times do).
  esVersionAt: {
    numberOfKeys: 2,
    lua: `${CURRENT_VERSION}
local lo, hi = 0, current_version(KEYS[1], KEYS[2])
while lo < hi do
  local mid = math.floor((lo + hi + 1) / 2)
  local e = redis.call('XRANGE', KEYS[1], '0-' .. mid, '0-' .. mid)
  if not e[1] then return redis.error_reply('event store: entry 0-' .. mid .. ' of ' .. KEYS[1] .. ' is missing') end
  if field(e[1][2], 'time') <= ARGV[1] then lo = mid else hi = mid - 1 end
end
return lo`,
  },

  // KEYS[1] stream, KEYS[2] meta. The stream's version.
  esVersion: {
    numberOfKeys: 2,
    lua: `${CURRENT_VERSION}
return current_version(KEYS[1], KEYS[2])`,
  },
} as const;

type Reply = Array<string | number | null>;

export interface EventStoreScripts {
  esAppend(stream: string, meta: string, expected: string, ...events: string[]): Promise<Reply>;
  esLoad(
    stream: string,
    meta: string,
    snapshot: string,
    schemaVersion: string,
    upto: string,
    pageSize: number,
  ): Promise<[number, number, string | null, string | null, string | null, Array<[string, string[]]>]>;
  esWriteSnapshot(
    stream: string,
    meta: string,
    snapshot: string,
    version: number,
    schemaVersion: number,
    state: string,
    time: string,
    writtenAt: string,
  ): Promise<[number, number]>;
  esVersionAt(stream: string, meta: string, time: string): Promise<number>;
  esVersion(stream: string, meta: string): Promise<number>;
}

/** The client, with the store's scripts defined on it (once). */
export function withEventStoreScripts(redis: Redis): Redis & EventStoreScripts {
  const client = redis as Redis & Partial<EventStoreScripts>;
  if (!client.esAppend) {
    for (const [name, script] of Object.entries(SCRIPTS)) redis.defineCommand(name, script);
  }
  return client as Redis & EventStoreScripts;
}
