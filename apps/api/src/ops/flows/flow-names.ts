import type Redis from 'ioredis';

/**
 * KEYS[1] the names hash; ARGV names. Answers each name's code, giving a name without one the
 * next code (from 1): `=<name>` holds a name's code, `#<code>` a code's name, `#next` the last
 * code given.
 */
const CODES_LUA = `
local out = {}
for i, name in ipairs(ARGV) do
  local code = redis.call('HGET', KEYS[1], '=' .. name)
  if not code then
    code = tostring(redis.call('HINCRBY', KEYS[1], '#next', 1))
    redis.call('HSET', KEYS[1], '=' .. name, code, '#' .. code, name)
  end
  out[i] = tonumber(code)
end
return out`;

/**
 * The codes the flow index writes instead of stream, type and source names, kept in one hash
 * (`<ns>:flow:names`, without expiry: a few entries per stream, type and source) and cached here;
 * a code, once given, always names the same name.
 */
export class FlowNames {
  private readonly codes = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    readonly key: string,
  ) {}

  /** The cached code of `name`. */
  codeOf = (name: string): number | undefined => this.codes.get(name);

  /** Gives every name of `names` without a cached code its code (one round trip when there is any). */
  async ensure(names: Iterable<string>): Promise<void> {
    const missing = [...new Set(names)].filter((n) => !this.codes.has(n));
    if (missing.length === 0) return;
    const codes = (await this.redis.eval(CODES_LUA, 1, this.key, ...missing)) as number[];
    missing.forEach((name, i) => this.codes.set(name, Number(codes[i])));
  }

  /** Every code's name, from the hash's `#<code>` fields of an HGETALL reply. */
  static decode(hash: Record<string, string>): (code: number) => string | undefined {
    return (code) => hash[`#${code}`];
  }
}
