import { Injectable } from '@nestjs/common';
import type { ChainableCommander } from 'ioredis';
import { InjectStore, ServiceStore } from '@app/platform';
import type { OrderPlaced } from '@app/contracts';
import type { ChargeResult } from './gateway/payment-gateway';
import { PaymentRecord, PaymentStatus } from './payment-record';

/** What `beginCharge` found: a fresh intent (`new`), an existing record's status, or a cancelled order never charged. */
export type ChargeStart = 'new' | 'cancelled' | PaymentStatus;

/** What `beginRefund` found: no record (`none`) or the record's status (`charged` is moved to `refunding`). */
export type RefundStart = 'none' | Exclude<PaymentStatus, 'charged'>;

// KEYS[1] record, KEYS[2] cancelled marker; ARGV: field/value pairs of a new record.
const BEGIN_CHARGE = `
local status = redis.call('HGET', KEYS[1], 'status')
if status then return status end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'cancelled' end
redis.call('HSET', KEYS[1], 'status', 'pending', unpack(ARGV))
return 'new'`;

// KEYS[1] record, KEYS[2] cancelled marker.
const BEGIN_REFUND = `
redis.call('SET', KEYS[2], '1')
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'none' end
if status == 'charged' then redis.call('HSET', KEYS[1], 'status', 'refunding') return 'refunding' end
return status`;

// KEYS[1] record; ARGV[1] the status the record must still have; ARGV[2..] field/value pairs to set.
const TRANSITION = `
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1`;

/**
 * Payment records in the service store: `payment:<orderId>` (hash, the record) and
 * `cancelled:<orderId>` (string, set once the order is cancelled, so a late OrderPlaced never
 * charges it). Every state change is one Lua script, so two deliveries racing on one order
 * cannot both take the same step.
 */
@Injectable()
export class PaymentRecordRepository {
  constructor(@InjectStore() private readonly store: ServiceStore) {}

  /** Records the intent to charge `order` unless a record (or a cancellation) already exists. */
  async beginCharge(order: OrderPlaced): Promise<ChargeStart> {
    const fields = [
      'orderId',
      order.orderId,
      'userId',
      order.userId,
      'userEmail',
      order.userEmail,
      'amount',
      String(order.total),
      'currency',
      order.currency,
    ];
    return (await this.store.redis.eval(
      BEGIN_CHARGE,
      2,
      this.recordKey(order.orderId),
      this.cancelledKey(order.orderId),
      ...fields,
    )) as ChargeStart;
  }

  /** Records the gateway's answer on a `pending` record; a no-op on any other status. */
  async settleCharge(orderId: string, result: ChargeResult, at: Date): Promise<void> {
    const fields = result.ok
      ? ['status', 'charged', 'paymentId', result.paymentId, 'chargedAt', at.toISOString()]
      : ['status', 'declined', 'reason', result.reason, 'failedAt', at.toISOString()];
    await this.transition(orderId, 'pending', fields);
  }

  /** Marks the order cancelled and moves a `charged` record to `refunding`. */
  async beginRefund(orderId: string): Promise<RefundStart> {
    return (await this.store.redis.eval(
      BEGIN_REFUND,
      2,
      this.recordKey(orderId),
      this.cancelledKey(orderId),
    )) as RefundStart;
  }

  /** `refunding` → `refunded`. */
  async settleRefund(orderId: string, at: Date): Promise<void> {
    await this.transition(orderId, 'refunding', ['status', 'refunded', 'refundedAt', at.toISOString()]);
  }

  async find(orderId: string): Promise<PaymentRecord | undefined> {
    const raw = await this.store.redis.hgetall(this.recordKey(orderId));
    if (!raw.status) return undefined;
    return {
      orderId: raw.orderId,
      userId: raw.userId,
      userEmail: raw.userEmail,
      amount: Number(raw.amount),
      currency: raw.currency,
      status: raw.status as PaymentStatus,
      paymentId: raw.paymentId,
      reason: raw.reason,
      chargedAt: raw.chargedAt,
      failedAt: raw.failedAt,
      refundedAt: raw.refundedAt,
      chargeAnnounced: raw.chargeAnnounced === '1',
      refundAnnounced: raw.refundAnnounced === '1',
    };
  }

  /** Queues on a commit: the charge's outcome and/or the refund of `orderId` have been published. */
  markAnnounced(tx: ChainableCommander, orderId: string, facts: { charge?: boolean; refund?: boolean }): void {
    const fields: string[] = [];
    if (facts.charge) fields.push('chargeAnnounced', '1');
    if (facts.refund) fields.push('refundAnnounced', '1');
    if (fields.length > 0) tx.hset(this.recordKey(orderId), ...fields);
  }

  private async transition(orderId: string, from: PaymentStatus, fields: string[]): Promise<void> {
    await this.store.redis.eval(TRANSITION, 1, this.recordKey(orderId), from, ...fields);
  }

  private recordKey(orderId: string): string {
    return this.store.key('payment', orderId);
  }

  private cancelledKey(orderId: string): string {
    return this.store.key('cancelled', orderId);
  }
}
