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
  // claims of their entries, "~<source><entry id>" (source l, d or p: KEYS[2..4]) joined by "\n"
  // (one argument each: per-argument cost is what a batch pays in the client), ARGV[5] "1" when
  // ARGV[3] and ARGV[4] are single values instead.
  // Claims each event for its entry when nobody holds it, or the entry holding it is no longer
  // pending (dead-lettered, trimmed): writes the claim and answers nothing for it (run it); its
  // own claim (a redelivery) also runs. Answers [index, 1] for an event handled already (a final
  // marker) and [index, 2] for one claimed by another entry still pending (a copy in flight: wait,
  // then ask again).
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
local writes, out, now = {}, {}, {}
for i = 1, #ids do
  local id, v, mine = ids[i], values[i], claims[i]
  local code = 0
  if now[id] then
    code = 2
  elseif v and v ~= mine then
    if string.byte(v, 1) ~= 126 then
      code = 1
    else
      local owner = string.sub(v, 3)
      local ok, p = pcall(redis.call, 'XPENDING', sources[string.sub(v, 2, 2)] or KEYS[2], ARGV[1], owner, owner, 1)
      if ok and p[1] then code = 2 end
    end
  end
  if code == 0 then
    now[id] = true
    if v ~= mine then
      writes[#writes + 1] = id
      writes[#writes + 1] = mine
    end
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
  // KEYS[1] the dedupe bucket; ARGV[1] marker value, ARGV[2] bucket expiry (unix s), ARGV[3] event
  // ids joined by "\n". Marks the events handled (one argument for a whole batch).
  markHandled: {
    numberOfKeys: 1,
    lua: `
local fields, value, text, from, n = {}, ARGV[1], ARGV[3], 1, 0
while true do
  local at = string.find(text, '\\n', from, true)
  fields[n + 1] = at and string.sub(text, from, at - 1) or string.sub(text, from)
  fields[n + 2] = value
  n = n + 2
  if not at then break end
  from = at + 1
end
for i = 1, n, 1000 do
  redis.call('HSET', KEYS[1], unpack(fields, i, math.min(i + 999, n)))
end
redis.call('EXPIREAT', KEYS[1], ARGV[2])
return n / 2`,
  },
} as const;

/** What claimEvents answers for an event: run it (claimed), handled already, or held by a copy in flight. */
export const CLAIM_HANDLED = 1;
export const CLAIM_HELD = 2;

export interface ConsumerScripts {
  renewLeases(stream: string, group: string, consumer: string, ...ids: string[]): Promise<number>;
  claimEvents(bucket: string, live: string, redrive: string, replay: string, group: string, expireAt: number, ids: string, claims: string, single?: '1'): Promise<number[]>;
  markHandled(bucket: string, value: string, expireAt: number, ids: string): Promise<number>;
}

/** The client, with the consumer's scripts defined on it (once). */
export function withConsumerScripts(redis: Redis): Redis & ConsumerScripts {
  const client = redis as Redis & Partial<ConsumerScripts>;
  if (!client.renewLeases) {
    for (const [name, script] of Object.entries(SCRIPTS)) redis.defineCommand(name, script);
  }
  return client as Redis & ConsumerScripts;
}
