import type { ChainableCommander } from 'ioredis';

// KEYS[1] the order's marker hash; ARGV[1] the marker field; then, per increment:
// command (HINCRBY or ZINCRBY), index of its key in KEYS, field or member, amount.
const COUNT_ONCE = `
if redis.call('HSETNX', KEYS[1], ARGV[1], '1') == 0 then return 0 end
for i = 2, #ARGV, 4 do
  local key = KEYS[tonumber(ARGV[i + 1])]
  if ARGV[i] == 'ZINCRBY' then redis.call('ZINCRBY', key, ARGV[i + 3], ARGV[i + 2])
  else redis.call('HINCRBY', key, ARGV[i + 2], ARGV[i + 3]) end
end
return 1`;

/**
 * Counter increments applied at most once per (marker key, marker field), as one Lua script:
 * the check "was this order's OrderPlaced counted already?" and the counting are atomic, and
 * queued on a transaction they commit together with the event's acknowledgement.
 */
export class CountOnce {
  private readonly keys: string[];
  private readonly args: Array<string | number>;

  constructor(markerKey: string, markerField: string) {
    this.keys = [markerKey];
    this.args = [markerField];
  }

  /** HINCRBY `key` `field` `by`. */
  hincr(key: string, field: string, by: number): this {
    this.args.push('HINCRBY', this.keyIndex(key), field, by);
    return this;
  }

  /** ZINCRBY `key` `by` `member`. */
  zincr(key: string, member: string, by: number): this {
    this.args.push('ZINCRBY', this.keyIndex(key), member, by);
    return this;
  }

  /** Queues the script on `tx`. */
  queue(tx: ChainableCommander): void {
    tx.eval(COUNT_ONCE, this.keys.length, ...this.keys, ...this.args);
  }

  private keyIndex(key: string): number {
    const at = this.keys.indexOf(key);
    if (at >= 0) return at + 1;
    this.keys.push(key);
    return this.keys.length;
  }
}
