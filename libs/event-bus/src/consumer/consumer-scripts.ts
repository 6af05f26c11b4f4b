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
} as const;

export interface ConsumerScripts {
  renewLeases(stream: string, group: string, consumer: string, ...ids: string[]): Promise<number>;
}

/** The client, with the consumer's scripts defined on it (once). */
export function withConsumerScripts(redis: Redis): Redis & ConsumerScripts {
  const client = redis as Redis & Partial<ConsumerScripts>;
  if (!client.renewLeases) {
    for (const [name, script] of Object.entries(SCRIPTS)) redis.defineCommand(name, script);
  }
  return client as Redis & ConsumerScripts;
}
