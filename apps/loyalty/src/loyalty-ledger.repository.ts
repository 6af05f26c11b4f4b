import { Injectable } from '@nestjs/common';
import type { ChainableCommander } from 'ioredis';
import { InjectStore, ServiceStore } from '@app/platform';

/** One change of a user's balance. */
export interface LedgerEntry {
  orderId: string;
  /** Positive for a payment, negative for a refund. */
  points: number;
  reason: 'payment' | 'refund';
  /** Business time of the payment or refund. */
  at: string;
}

/** A user's balance and how it came about, oldest first. */
export interface LoyaltyAccount {
  userId: string;
  points: number;
  history: LedgerEntry[];
}

// KEYS[1] awarded:<order>, KEYS[2] refunded:<order>, KEYS[3] points:<user>, KEYS[4] history:<user>; ARGV[1] orderId, ARGV[2] points, ARGV[3] at.
// NOTE: an order already refunded earns nothing (a payment replayed after its refund).
const AWARD = `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local points = tonumber(ARGV[2])
redis.call('SET', KEYS[1], points)
if points == 0 then return 0 end
redis.call('INCRBY', KEYS[3], points)
redis.call('RPUSH', KEYS[4], cjson.encode({ orderId = ARGV[1], points = points, reason = 'payment', at = ARGV[3] }))
return points`;

// Same keys; ARGV[1] orderId, ARGV[2] at. Takes back what the order earned, once.
const TAKE_BACK = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local points = tonumber(redis.call('GET', KEYS[1]) or '0')
redis.call('SET', KEYS[2], points)
if points == 0 then return 0 end
redis.call('DECRBY', KEYS[3], points)
redis.call('RPUSH', KEYS[4], cjson.encode({ orderId = ARGV[1], points = -points, reason = 'refund', at = ARGV[2] }))
return points`;

/**
 * Loyalty balances in the service store: `points:<userId>` (integer), `history:<userId>` (list of
 * JSON entries), and per order `awarded:<orderId>` / `refunded:<orderId>` (the points given and
 * taken back). Writes are Lua scripts queued on a transaction (`ctx.commit`), so the check
 * "already awarded for this order?" and the award are one atomic step with the acknowledgement.
 */
@Injectable()
export class LoyaltyLedgerRepository {
  constructor(@InjectStore() private readonly store: ServiceStore) {}

  /** Queues: award `points` to `userId` for `orderId`, unless that order already earned (or lost) its points. */
  award(tx: ChainableCommander, userId: string, orderId: string, points: number, at: string): void {
    tx.eval(AWARD, 4, ...this.keys(userId, orderId), orderId, points, at);
  }

  /** Queues: take back from `userId` what `orderId` earned, once. */
  takeBack(tx: ChainableCommander, userId: string, orderId: string, at: string): void {
    tx.eval(TAKE_BACK, 4, ...this.keys(userId, orderId), orderId, at);
  }

  async account(userId: string): Promise<LoyaltyAccount> {
    const [points, history] = await Promise.all([
      this.store.redis.get(this.store.key('points', userId)),
      this.store.redis.lrange(this.store.key('history', userId), 0, -1),
    ]);
    return {
      userId,
      points: Number(points ?? 0),
      history: history.map((json) => {
        const e = JSON.parse(json) as LedgerEntry;
        return { orderId: e.orderId, points: e.points, reason: e.reason, at: e.at };
      }),
    };
  }

  private keys(userId: string, orderId: string): string[] {
    const { store } = this;
    return [
      store.key('awarded', orderId),
      store.key('refunded', orderId),
      store.key('points', userId),
      store.key('history', userId),
    ];
  }
}
