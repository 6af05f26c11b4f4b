import type Redis from 'ioredis';

/**
 * Lua the consumer runs; each is one atomic command, so ioredis auto-pipelining batches
 * concurrent calls into one round trip.
 */
const SCRIPTS = {
  // KEYS[1] stream; ARGV[1] group, ARGV[2] consumer, ARGV[3..] entry ids.
  // Resets the idle time of the entries this consumer still owns (its lease), and only those:
  // an entry another consumer claimed meanwhile is left to it.
  renewLeases: {
    numberOfKeys: 1,
    lua: `
local renewed = 0
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    renewed = renewed + 1
  end
end
return renewed`,
  },
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
  claimEvents: {
    numberOfKeys: 4,
    lua: `
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
return out`,
  },
} as const;

/**
 * KEYS[1] a dedupe bucket; ARGV[1] event id, ARGV[2] a claim's holder (`~<source><entry id>`).
 * Deletes the event's claim if that entry holds it (a dead letter lets its copies run). Sent
 * with EVAL inside the dead letter's MULTI: rare, and no script cache to miss after a restart.
 */
export const RELEASE_CLAIM_LUA = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and string.sub(v, 1, #ARGV[2] + 1) == ARGV[2] .. '@' then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0`;

/** What claimEvents answers for an event: run it (claimed), handled already, or held by a copy in flight. */
export const CLAIM_HANDLED = 1;
export const CLAIM_HELD = 2;

export interface ConsumerScripts {
  renewLeases(stream: string, group: string, consumer: string, ...ids: string[]): Promise<number>;
  claimEvents(bucket: string, live: string, redrive: string, replay: string, group: string, expireAt: number, ids: string, claims: string, single: '1' | '0', fresh: '1' | '0'): Promise<number[]>;
}

/** The client, with the consumer's scripts defined on it (once). */
export function withConsumerScripts(redis: Redis): Redis & ConsumerScripts {
  const client = redis as Redis & Partial<ConsumerScripts>;
  if (!client.renewLeases) {
    for (const [name, script] of Object.entries(SCRIPTS)) redis.defineCommand(name, script);
  }
  return client as Redis & ConsumerScripts;
}
