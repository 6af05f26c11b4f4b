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
  // ARGV[1] group, ARGV[2] source of these entries (l, d or p: KEYS[2..4]), ARGV[3] bucket expiry
  // (unix s), ARGV[4] event ids, ARGV[5] their entry ids, both joined by "\n" (one argument each:
  // per-argument cost is what a batch pays in the client), or single values with ARGV[6] = "1".
  // Claims each event for its entry: no marker, or a stale claim (its entry no longer pending),
  // writes "~<source><entry id>" and answers nothing for it (run it); its own claim (a redelivery)
  // also runs. Answers [index, 1] for an event handled already (a final marker) and [index, 2] for
  // one claimed by another entry still pending (a copy in flight: wait, then ask again).
  claimEvents: {
    numberOfKeys: 4,
    lua: `
local ids, entries = {}, {}
if ARGV[6] == '1' then
  ids[1], entries[1] = ARGV[4], ARGV[5]
else
  for id in string.gmatch(ARGV[4], '[^\\n]+') do ids[#ids + 1] = id end
  for e in string.gmatch(ARGV[5], '[^\\n]+') do entries[#entries + 1] = e end
end
local values = {}
for from = 1, #ids, 1000 do
  local chunk = redis.call('HMGET', KEYS[1], unpack(ids, from, math.min(from + 999, #ids)))
  for i = 1, #chunk do values[from + i - 1] = chunk[i] end
end
local sources = { l = KEYS[2], d = KEYS[3], p = KEYS[4] }
local claims, out, now = {}, {}, {}
for i = 1, #ids do
  local id, v = ids[i], values[i]
  local mine = '~' .. ARGV[2] .. entries[i]
  local code = 0
  if now[id] then
    code = 2
  elseif v and v ~= mine then
    if string.sub(v, 1, 1) ~= '~' then
      code = 1
    else
      local owner = string.sub(v, 3)
      local ok, p = pcall(redis.call, 'XPENDING', sources[string.sub(v, 2, 2)] or KEYS[2], ARGV[1], owner, owner, 1)
      if ok and p[1] then code = 2 end
    end
  end
  if code == 0 then
    now[id] = true
    if v ~= mine then claims[#claims + 1] = id; claims[#claims + 1] = mine end
  else
    out[#out + 1] = i
    out[#out + 1] = code
  end
end
for from = 1, #claims, 1000 do
  redis.call('HSET', KEYS[1], unpack(claims, from, math.min(from + 999, #claims)))
end
if #claims > 0 then redis.call('EXPIREAT', KEYS[1], ARGV[3]) end
return out`,
  },
  // KEYS[1] the dedupe bucket; ARGV[1] marker value, ARGV[2] bucket expiry (unix s), ARGV[3] event
  // ids joined by "\n". Marks the events handled (one argument for a whole batch).
  markHandled: {
    numberOfKeys: 1,
    lua: `
local fields, value = {}, ARGV[1]
for id in string.gmatch(ARGV[3], '[^\\n]+') do fields[#fields + 1] = id; fields[#fields + 1] = value end
for from = 1, #fields, 1000 do
  redis.call('HSET', KEYS[1], unpack(fields, from, math.min(from + 999, #fields)))
end
redis.call('EXPIREAT', KEYS[1], ARGV[2])
return #fields / 2`,
  },
} as const;

/** What claimEvents answers for an event: run it (claimed), handled already, or held by a copy in flight. */
export const CLAIM_HANDLED = 1;
export const CLAIM_HELD = 2;

export interface ConsumerScripts {
  renewLeases(stream: string, group: string, consumer: string, ...ids: string[]): Promise<number>;
  claimEvents(bucket: string, live: string, redrive: string, replay: string, group: string, source: string, expireAt: number, ids: string, entries: string, single?: '1'): Promise<number[]>;
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
