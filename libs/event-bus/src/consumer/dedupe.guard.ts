import type Redis from 'ioredis';

/** Processed-marker protocol per (group, event id); see `begin`. */
export type DedupeVerdict = 'run' | 'duplicate' | 'busy';

const DONE = 'done';

// KEYS[1] marker; ARGV[1] entry id; ARGV[2] lease ms.
// A marker is absent (never seen), "done" (handled), or "p:<entry id>" (being handled).
const BEGIN = `
local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], 'p:' .. ARGV[1], 'PX', ARGV[2]) return 'run' end
if v == 'done' then return 'duplicate' end
if v == 'p:' .. ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 'run' end
return 'busy'`;

interface DedupeCommands {
  dedupeBegin(key: string, entryId: string, leaseMs: number): Promise<DedupeVerdict>;
}

/**
 * The dedupe guard: a handler runs for an event id at most once per group while the marker lives
 * (TTL). `begin` claims the marker for one stream entry: a redelivery of that same entry (crash,
 * claim, retry) takes it over, a second copy of the event (a resent XADD, a replay) is a
 * `duplicate` once the first is done, or `busy` while the first is still running.
 */
export class DedupeGuard {
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
    private readonly leaseMs: number,
  ) {
    if (!(redis as unknown as Partial<DedupeCommands>).dedupeBegin) {
      redis.defineCommand('dedupeBegin', { numberOfKeys: 1, lua: BEGIN });
    }
  }

  begin(marker: string, entryId: string): Promise<DedupeVerdict> {
    return (this.redis as unknown as DedupeCommands).dedupeBegin(marker, entryId, this.leaseMs);
  }

  /** Arguments of the SET that marks an event done, for a MULTI with the XACK. */
  doneArgs(marker: string): [string, string, 'PX', number] {
    return [marker, DONE, 'PX', this.ttlMs];
  }
}
