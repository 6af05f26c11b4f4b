import type Redis from 'ioredis';

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
} as const;

export interface ConsumerScripts {
  renewLeases(stream: string, group: string, consumer: string, ...ids: string[]): Promise<string[]>;
  removeIdleConsumers(stream: string, group: string, keep: string, minIdleMs: number, only: string): Promise<Array<string | number>>;
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
export async function removeIdleConsumers(redis: Redis, key: string, group: string, opts: { keep?: string; minIdleMs: number; only?: string }): Promise<ConsumerRemoval[]> {
  const reply = await withConsumerScripts(redis).removeIdleConsumers(key, group, opts.keep ?? '', opts.minIdleMs, opts.only ?? '');
  const out: ConsumerRemoval[] = [];
  for (let i = 0; i < reply.length; i += 3) out.push({ consumer: String(reply[i]), outcome: reply[i + 1] === 'busy' ? 'busy' : 'removed', count: Number(reply[i + 2]) });
  return out;
}

/** The client, with the consumer's scripts defined on it (once). */
export function withConsumerScripts(redis: Redis): Redis & ConsumerScripts {
  const client = redis as Redis & Partial<ConsumerScripts>;
  if (!client.renewLeases) {
    for (const [name, script] of Object.entries(SCRIPTS)) redis.defineCommand(name, script);
  }
  return client as Redis & ConsumerScripts;
}
