import { Injectable } from '@nestjs/common';
import type { ChainableCommander } from 'ioredis';
import { InjectStore, ServiceStore } from '@app/platform';
import type { BalanceRow } from './balance-row';

// KEYS[1] rows, KEYS[2] versions; ARGV[1] account id, ARGV[2] account version, ARGV[3] row JSON.
// A row only moves forward: an older or repeated fact (a replay, a redelivery) changes nothing.
const APPLY = `
local current = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if tonumber(ARGV[2]) <= current then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1`;

// KEYS[1] rows, KEYS[2] versions, KEYS[3] rebuilt rows, KEYS[4] rebuilt versions.
// Puts a rebuilt model in place in one step. A live row newer than the rebuilt one (the live
// projection applied a fact after the rebuild read that account, or the account was opened
// meanwhile) is carried over, so nothing applied during the rebuild is lost.
const SWAP = `
local live = redis.call('HGETALL', KEYS[2])
local kept = 0
for i = 1, #live, 2 do
  local rebuilt = tonumber(redis.call('HGET', KEYS[4], live[i]) or '0')
  local row = redis.call('HGET', KEYS[1], live[i])
  if tonumber(live[i + 1]) > rebuilt and row then
    redis.call('HSET', KEYS[3], live[i], row)
    redis.call('HSET', KEYS[4], live[i], live[i + 1])
    kept = kept + 1
  end
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('RENAME', KEYS[3], KEYS[1])
  redis.call('RENAME', KEYS[4], KEYS[2])
else
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[4])
end
return kept`;

export interface BalancesKeys {
  rows: string;
  versions: string;
}

/**
 * The balances read model: `<ns>:svc:ledger:{balances}` (account id -> row JSON) and
 * `<ns>:svc:ledger:{balances}:versions` (account id -> account version), one hash tag so the
 * scripts over both stay in one slot.
 */
@Injectable()
export class BalancesReadModel {
  readonly keys: BalancesKeys;

  constructor(@InjectStore() private readonly store: ServiceStore) {
    this.keys = this.keysOf('');
  }

  /** Keys of a model being rebuilt next to the live one. */
  rebuildKeys(id: string): BalancesKeys {
    return this.keysOf(`:rebuild:${id}`);
  }

  /** Queues: the row, unless the model already reflects that account version or a later one. */
  apply(tx: ChainableCommander, row: BalanceRow, keys: BalancesKeys = this.keys): void {
    tx.eval(APPLY, 2, keys.rows, keys.versions, row.accountId, row.accountVersion, JSON.stringify(row));
  }

  /** Every row, by account id. */
  async list(): Promise<BalanceRow[]> {
    const rows = await this.store.redis.hvals(this.keys.rows);
    return rows
      .map((json) => JSON.parse(json) as BalanceRow)
      .sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0));
  }

  async get(accountId: string): Promise<BalanceRow | undefined> {
    const json = await this.store.redis.hget(this.keys.rows, accountId);
    return json ? (JSON.parse(json) as BalanceRow) : undefined;
  }

  /** Replaces the live model with a rebuilt one (see SWAP); how many live rows were newer and kept. */
  async swapIn(rebuilt: BalancesKeys): Promise<number> {
    return Number(
      await this.store.redis.eval(SWAP, 4, this.keys.rows, this.keys.versions, rebuilt.rows, rebuilt.versions),
    );
  }

  /** Removes one account's row. */
  async remove(accountId: string): Promise<void> {
    await this.store.redis.multi().hdel(this.keys.rows, accountId).hdel(this.keys.versions, accountId).exec();
  }

  async discard(keys: BalancesKeys): Promise<void> {
    await this.store.redis.del(keys.rows, keys.versions);
  }

  private keysOf(suffix: string): BalancesKeys {
    const rows = `${this.store.key('{balances}')}${suffix}`;
    return { rows, versions: `${rows}:versions` };
  }
}
