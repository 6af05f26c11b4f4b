import type Redis from 'ioredis';

// KEYS: 1 seeded flag, 2 stock (sku -> available), 3 reserved (sku -> reserved), 4 catalogue (sku -> name).
// ARGV: 1 now, then (sku, name, stock) triples. Seeds only if the flag was not set: never resets stock.
const SEED = `
if redis.call('SETNX', KEYS[1], ARGV[1]) == 0 then return 0 end
for i = 2, #ARGV, 3 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
  redis.call('HSET', KEYS[3], ARGV[i], 0)
  redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1])
end
return (#ARGV - 1) / 3`;

// KEYS: 1 stock, 2 reserved, 3 the order's reservation hash (state, payload, at, releasedAt).
// ARGV: 1 now, 2 lines JSON, then (sku, quantity) pairs, one per sku.
// All lines or none. An order that already has a record is never reserved again: its outcome is returned.
const RESERVE = `
local state = redis.call('HGET', KEYS[3], 'state')
if state then
  return {state, redis.call('HGET', KEYS[3], 'payload') or '', redis.call('HGET', KEYS[3], 'at') or '', 'repeat'}
end
local short = {}
for i = 3, #ARGV, 2 do
  local wanted = tonumber(ARGV[i + 1])
  local available = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if available < wanted then
    short[#short + 1] = { sku = ARGV[i], requested = wanted, available = math.max(available, 0) }
  end
end
if #short > 0 then
  local payload = cjson.encode(short)
  redis.call('HSET', KEYS[3], 'state', 'failed', 'payload', payload, 'at', ARGV[1])
  return {'failed', payload, ARGV[1], 'new'}
end
for i = 3, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], -tonumber(ARGV[i + 1]))
  redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1])
end
redis.call('HSET', KEYS[3], 'state', 'reserved', 'payload', ARGV[2], 'at', ARGV[1])
return {'reserved', ARGV[2], ARGV[1], 'new'}`;

// KEYS: as RESERVE. ARGV: 1 now.
// Gives back what the order reserved, once. An order with no record gets a 'void' tombstone, so an
// OrderPlaced that arrives after its OrderCancelled reserves nothing.
const RELEASE = `
local state = redis.call('HGET', KEYS[3], 'state')
if not state then
  redis.call('HSET', KEYS[3], 'state', 'void', 'at', ARGV[1])
  return {'void', '', ARGV[1], 'new'}
end
if state == 'reserved' then
  local payload = redis.call('HGET', KEYS[3], 'payload')
  for _, line in ipairs(cjson.decode(payload)) do
    redis.call('HINCRBY', KEYS[1], line.sku, line.quantity)
    redis.call('HINCRBY', KEYS[2], line.sku, -line.quantity)
  end
  redis.call('HSET', KEYS[3], 'state', 'released', 'releasedAt', ARGV[1])
  return {'released', payload, ARGV[1], 'new'}
end
if state == 'released' then
  return {'released', redis.call('HGET', KEYS[3], 'payload'), redis.call('HGET', KEYS[3], 'releasedAt'), 'repeat'}
end
return {state, '', '', 'repeat'}`;

/** `[state, payload JSON, time, 'new' | 'repeat']` */
export type ScriptReply = [string, string, string, 'new' | 'repeat'];

export interface StockCommands {
  inventorySeed(
    flag: string,
    stock: string,
    reserved: string,
    catalogue: string,
    ...args: Array<string | number>
  ): Promise<number>;
  inventoryReserve(
    stock: string,
    reserved: string,
    reservation: string,
    ...args: Array<string | number>
  ): Promise<ScriptReply>;
  inventoryRelease(stock: string, reserved: string, reservation: string, now: string): Promise<ScriptReply>;
}

/** Registers the stock scripts on `redis` once (the bus's connection is shared by every service of the process). */
export function stockCommands(redis: Redis): StockCommands {
  const commands = redis as unknown as Partial<StockCommands>;
  if (!commands.inventorySeed) redis.defineCommand('inventorySeed', { numberOfKeys: 4, lua: SEED });
  if (!commands.inventoryReserve) redis.defineCommand('inventoryReserve', { numberOfKeys: 3, lua: RESERVE });
  if (!commands.inventoryRelease) redis.defineCommand('inventoryRelease', { numberOfKeys: 3, lua: RELEASE });
  return redis as unknown as StockCommands;
}
