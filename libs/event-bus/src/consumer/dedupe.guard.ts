import type Redis from 'ioredis';

/** Processed-marker protocol per (group, event id); see `begin`. */
export type DedupeVerdict = 'run' | 'duplicate' | 'busy';

const DONE = 'done';

// KEYS markers; ARGV[1] lease ms, ARGV[1 + i] the entry id of KEYS[i]. One verdict per marker.
// A marker is absent (never seen), "done" (handled), or "p:<entry id>" (being handled).
const BEGIN = `
local out = {}
for i = 1, #KEYS do
  local mine = 'p:' .. ARGV[i + 1]
  if redis.call('SET', KEYS[i], mine, 'NX', 'PX', ARGV[1]) then
    out[i] = 'run'
  else
    local v = redis.call('GET', KEYS[i])
    if v == 'done' then out[i] = 'duplicate'
    elseif v == mine or not v then redis.call('SET', KEYS[i], mine, 'PX', ARGV[1]) out[i] = 'run'
    else out[i] = 'busy' end
  end
end
return out`;

interface DedupeCommands {
  dedupeBegin(numKeys: number, ...keysThenArgs: Array<string | number>): Promise<DedupeVerdict[]>;
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
      redis.defineCommand('dedupeBegin', { lua: BEGIN });
    }
  }

  /** Claims the markers of a batch in one script call: one verdict per (marker, entry id). */
  async beginMany(items: Array<{ marker: string; entryId: string }>): Promise<DedupeVerdict[]> {
    if (items.length === 0) return [];
    return (this.redis as unknown as DedupeCommands).dedupeBegin(
      items.length,
      ...items.map((i) => i.marker),
      this.leaseMs,
      ...items.map((i) => i.entryId),
    );
  }

  async begin(marker: string, entryId: string): Promise<DedupeVerdict> {
    const [verdict] = await this.beginMany([{ marker, entryId }]);
    return verdict;
  }

  /** Arguments of the SET that marks an event done, for a MULTI with the XACK. */
  doneArgs(marker: string): [string, string, 'PX', number] {
    return [marker, DONE, 'PX', this.ttlMs];
  }
}
