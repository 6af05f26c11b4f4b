import type Redis from 'ioredis';
import type { ChainableCommander } from 'ioredis';

/**
 * Lua the consumer runs; each is one atomic command, so ioredis auto-pipelining batches
 * concurrent calls into one round trip.
 */
const SCRIPTS = {
  // KEYS[1] stream; ARGV[1] group, ARGV[2] consumer, ARGV[3..] entry ids.
  // Resets the idle time of the entries this consumer still owns (its lease), and only those:
  // an entry another consumer claimed meanwhile is left to it. Answers the ids it no longer owns
  // (acknowledged, dead-lettered or claimed by someone else, e.g. by an operator).
  renewLeases: {
    numberOfKeys: 1,
    lua: `
local lost = {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost`,
  },
  // KEYS[1] stream; ARGV[1] group, ARGV[2] a consumer never to remove (the caller's own, or ''),
  // ARGV[3] minimum idle ms, ARGV[4] the one consumer to consider ('' = every one).
  // Deletes the consumers that own no pending entry and are idle that long, in one atomic step (a
  // consumer deleted while it owns entries would take them out of the group's pending list, never
  // to be redelivered). Answers flat (name, 'removed' | 'busy', idle ms | pending count) triples;
  // 'busy' only for the named consumer.
  removeIdleConsumers: {
    numberOfKeys: 1,
    lua: `
local out = {}
for _, row in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #row, 2 do info[row[i]] = row[i + 1] end
  local name = info['name']
  if name ~= ARGV[2] and (ARGV[4] == '' or name == ARGV[4]) then
    if info['pending'] > 0 then
      if ARGV[4] ~= '' then out[#out + 1] = name out[#out + 1] = 'busy' out[#out + 1] = info['pending'] end
    elseif info['idle'] >= tonumber(ARGV[3]) then
      redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
      out[#out + 1] = name out[#out + 1] = 'removed' out[#out + 1] = info['idle']
    end
  end
end
return out`,
  },
  // KEYS[1] stream; ARGV[1] group, ARGV[2] start id. Creates the group (and the stream) unless it
  // exists: 1 created, 0 existed. A script because XGROUP carries no key for a cluster client to
  // route by (it would go to a random node and come back MOVED).
  ensureGroup: {
    numberOfKeys: 1,
    lua: `
local ok, err = pcall(redis.call, 'XGROUP', 'CREATE', KEYS[1], ARGV[1], ARGV[2], 'MKSTREAM')
if ok then return 1 end
if string.find(tostring(err), 'BUSYGROUP') then return 0 end
return redis.error_reply(tostring(err))`,
  },
  // KEYS[1] stream; ARGV[1] XGROUP subcommand (CREATE, SETID, ...), ARGV[2..] its arguments after the key.
  // XGROUP and XINFO carry no key for a cluster client to route by (it sends them to a random node,
  // which answers MOVED): as one-key scripts they go to the stream's node.
  xgroupOf: {
    numberOfKeys: 1,
    lua: `return redis.call('XGROUP', ARGV[1], KEYS[1], unpack(ARGV, 2))`,
  },
  // KEYS[1] stream; ARGV[1] XINFO subcommand (STREAM, GROUPS, CONSUMERS), ARGV[2..] its arguments after the key.
  xinfoOf: {
    numberOfKeys: 1,
    lua: `return redis.call('XINFO', ARGV[1], KEYS[1], unpack(ARGV, 2))`,
  },
  // KEYS[1] lease, KEYS[2] epoch; ARGV[1] member, ARGV[2] lease ms.
  // Grants (group, partition) to the member when nobody holds it (or the member itself does, e.g.
  // after a restart under a stable name): a new epoch each time. Answers the epoch, or 0 when
  // another member holds it.
  leaseAcquire: {
    numberOfKeys: 2,
    lua: `
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, #ARGV[1] + 1) ~= ARGV[1] .. '|' then return 0 end
local e = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. e, 'PX', ARGV[2])
return e`,
  },
  // KEYS[1] lease; ARGV[1] token (member|epoch), ARGV[2] lease ms. 1: extended; 0: no longer ours.
  leaseRenew: {
    numberOfKeys: 1,
    lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,
  },
  // KEYS[1] lease; ARGV[1] token. 1: released; 0: it was not ours (any more).
  leaseRelease: {
    numberOfKeys: 1,
    lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
  },
  // KEYS[1] members (sorted set); ARGV[1] member, ARGV[2] session timeout ms, ARGV[3] '1' to leave.
  // Records the member's heartbeat at the server's clock (one clock decides liveness), drops
  // members silent for the session timeout, and answers the live members, sorted by name.
  groupHeartbeat: {
    numberOfKeys: 1,
    lua: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[3] == '1' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], now, ARGV[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 10)
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
table.sort(members)
return members`,
  },
  // KEYS[1] lease, KEYS[2] stream; ARGV[1] token, ARGV[2] group, ARGV[3..] entry ids.
  // XACK only while the lease is the caller's (fencing): a stale owner's acknowledgements are refused.
  fencedAck: {
    numberOfKeys: 2,
    lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('FENCED the lease of this partition is no longer ' .. ARGV[1]) end
return redis.call('XACK', KEYS[2], ARGV[2], unpack(ARGV, 3))`,
  },
  // KEYS[1] lease, KEYS[2] dead-letter stream, KEYS[3] the key the entry was read from, KEYS[4]
  // its event's dedupe bucket (or the lease again when it has none); ARGV[1] token, ARGV[2] group,
  // ARGV[3] entry id, ARGV[4] event id, ARGV[5] claim holder ('' when none), ARGV[6..] the dead
  // letter's fields. A dead letter as dead-letter.writer.ts writes it (XADD, XACK, release the
  // claim), only while the lease is the caller's.
  fencedDeadLetter: {
    numberOfKeys: 4,
    lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('FENCED the lease of this partition is no longer ' .. ARGV[1]) end
local id = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 6))
redis.call('XACK', KEYS[3], ARGV[2], ARGV[3])
if ARGV[5] ~= '' then
  local v = redis.call('HGET', KEYS[4], ARGV[4])
  if v and string.sub(v, 1, #ARGV[5] + 1) == ARGV[5] .. '@' then redis.call('HDEL', KEYS[4], ARGV[4]) end
end
return id`,
  },
  // KEYS[1] lease, KEYS[2..] the keys a partition's reader reads; ARGV[1] token, ARGV[2] group,
  // ARGV[3] consumer, ARGV[4] count, ARGV[5..] one id per read key ('0'-based cursors or '>').
  // XREADGROUP only while the lease is the caller's: a stale owner cannot pull entries into the
  // partition's pending list after its new owner read that list back. Answers {1, reply} with
  // entries, or {0, last id of each key} when there is nothing to read (a blocking XREAD from
  // those ids then wakes the reader when something arrives).
  fencedRead: {
    lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('FENCED the lease of this partition is no longer ' .. ARGV[1]) end
local args = {'GROUP', ARGV[2], ARGV[3], 'COUNT', ARGV[4], 'STREAMS'}
for i = 2, #KEYS do args[#args + 1] = KEYS[i] end
for i = 5, #ARGV do args[#args + 1] = ARGV[i] end
local reply = redis.call('XREADGROUP', unpack(args))
if reply then return {1, reply} end
local last = {0}
for i = 2, #KEYS do
  local top = redis.call('XREVRANGE', KEYS[i], '+', '-', 'COUNT', 1)
  last[#last + 1] = top[1] and top[1][1] or '0-0'
end
return last`,
  },
} as const;

export interface ConsumerScripts {
  fencedRead(
    numberOfKeys: number,
    lease: string,
    ...rest: Array<string | number>
  ): Promise<[1, unknown] | [0, ...string[]]>;
  /** `XGROUP <subcommand> <stream> ...args`, routed by the stream's key. */
  xgroupOf(stream: string, subcommand: string, ...args: Array<string | number>): Promise<unknown>;
  /** `XINFO <subcommand> <stream> ...args`, routed by the stream's key. */
  xinfoOf(stream: string, subcommand: string, ...args: Array<string | number>): Promise<unknown>;
  ensureGroup(stream: string, group: string, startId: string): Promise<number>;
  leaseAcquire(lease: string, epoch: string, member: string, leaseMs: number): Promise<number>;
  leaseRenew(lease: string, token: string, leaseMs: number): Promise<number>;
  leaseRelease(lease: string, token: string): Promise<number>;
  groupHeartbeat(members: string, member: string, sessionTimeoutMs: number, leave: '0' | '1'): Promise<string[]>;
  fencedAck(lease: string, stream: string, token: string, group: string, ...ids: string[]): Promise<number>;
  fencedDeadLetter(
    lease: string,
    dlq: string,
    source: string,
    bucket: string,
    token: string,
    group: string,
    entryId: string,
    eventId: string,
    holder: string,
    ...fields: string[]
  ): Promise<string>;
  renewLeases(stream: string, group: string, consumer: string, ...ids: string[]): Promise<string[]>;
  removeIdleConsumers(
    stream: string,
    group: string,
    keep: string,
    minIdleMs: number,
    only: string,
  ): Promise<Array<string | number>>;
}

/** What removeIdleConsumers did to one consumer. */
export interface ConsumerRemoval {
  consumer: string;
  outcome: 'removed' | 'busy';
  /** Its idle time (removed) or how many entries it owns (busy). */
  count: number;
}

/**
 * Removes, atomically, the consumers of `group` that own nothing and are idle for `minIdleMs`
 * (never `keep`); with `only`, considers that consumer alone and reports it `busy` when it owns
 * entries. The one implementation of "remove an idle consumer".
 */
export async function removeIdleConsumers(
  redis: Redis,
  key: string,
  group: string,
  opts: { keep?: string; minIdleMs: number; only?: string },
): Promise<ConsumerRemoval[]> {
  const reply = await withConsumerScripts(redis).removeIdleConsumers(
    key,
    group,
    opts.keep ?? '',
    opts.minIdleMs,
    opts.only ?? '',
  );
  const out: ConsumerRemoval[] = [];
  for (let i = 0; i < reply.length; i += 3)
    out.push({
      consumer: String(reply[i]),
      outcome: reply[i + 1] === 'busy' ? 'busy' : 'removed',
      count: Number(reply[i + 2]),
    });
  return out;
}

/** The client, with the consumer's scripts defined on it (once). */
export function withConsumerScripts(redis: Redis): Redis & ConsumerScripts {
  const client = redis as Redis & Partial<ConsumerScripts>;
  if (!client.renewLeases) {
    for (const [name, script] of Object.entries(SCRIPTS))
      redis.defineCommand(name, script as { numberOfKeys?: number; lua: string });
  }
  return client as Redis & ConsumerScripts;
}

/** A pipeline or MULTI of a client with the consumer's scripts: they queue like any command. */
export type ScriptedPipeline = ChainableCommander & {
  xgroupOf(stream: string, subcommand: string, ...args: Array<string | number>): ScriptedPipeline;
  xinfoOf(stream: string, subcommand: string, ...args: Array<string | number>): ScriptedPipeline;
};

/** `pipeline`, typed with the consumer's scripts (defined on its client by withConsumerScripts). */
export function scripted(pipeline: ChainableCommander): ScriptedPipeline {
  return pipeline as ScriptedPipeline;
}
