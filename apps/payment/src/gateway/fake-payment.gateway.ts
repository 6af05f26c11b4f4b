import { Injectable } from '@nestjs/common';
import { InjectStore, ServiceStore } from '@app/platform';
import { decideFakeCharge } from './fake-decline-rule';
import type { ChargeRequest, ChargeResult, PaymentGateway, RefundRequest } from './payment-gateway';

/** What the fake gateway did, for tests and demos. */
export interface FakeGatewayCounts {
  /** `charge()` invocations, repeats included. */
  chargeCalls: number;
  /** Distinct idempotency keys approved: money actually taken. */
  charges: number;
  /** Distinct idempotency keys declined. */
  declines: number;
  /** `refund()` invocations, repeats included. */
  refundCalls: number;
  /** Distinct idempotency keys refunded: money actually given back. */
  refunds: number;
}

// KEYS[1] results by idempotency key, KEYS[2] counters; ARGV[1] key, ARGV[2] result, ARGV[3] counter of a first call, ARGV[4] calls counter.
// The first call with a key stores its result; every call returns the stored one.
const ONCE_PER_KEY = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then redis.call('HINCRBY', KEYS[2], ARGV[3], 1) end
redis.call('HINCRBY', KEYS[2], ARGV[4], 1)
return redis.call('HGET', KEYS[1], ARGV[1])`;

/**
 * A deterministic stand-in for a payment provider (the default `PAYMENT_GATEWAY`). Decline rule:
 * see `decideFakeCharge` (amount above 1000 → `amount-over-limit`, userId starting with
 * `declined` → `card-declined`). Like a real gateway it remembers every idempotency key (in the
 * payment service's store, `gateway:*`), so a repeated call returns the first result and never
 * charges or refunds twice.
 */
@Injectable()
export class FakePaymentGateway implements PaymentGateway {
  constructor(@InjectStore() private readonly store: ServiceStore) {}

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    const decided = decideFakeCharge(request);
    const stored = await this.once(
      'charges',
      request.idempotencyKey,
      decided,
      decided.ok ? 'charges' : 'declines',
      'chargeCalls',
    );
    return stored as ChargeResult;
  }

  async refund(request: RefundRequest): Promise<void> {
    await this.once(
      'refunds',
      request.idempotencyKey,
      { paymentId: request.paymentId, amount: request.amount },
      'refunds',
      'refundCalls',
    );
  }

  /** How many calls, charges, declines and refunds the gateway has seen. */
  async counts(): Promise<FakeGatewayCounts> {
    const raw = await this.store.redis.hgetall(this.store.key('gateway', 'counts'));
    const n = (field: keyof FakeGatewayCounts): number => Number(raw[field] ?? 0);
    return {
      chargeCalls: n('chargeCalls'),
      charges: n('charges'),
      declines: n('declines'),
      refundCalls: n('refundCalls'),
      refunds: n('refunds'),
    };
  }

  private async once(
    book: string,
    key: string,
    result: object,
    firstCounter: string,
    callsCounter: string,
  ): Promise<unknown> {
    const stored = (await this.store.redis.eval(
      ONCE_PER_KEY,
      2,
      this.store.key('gateway', book),
      this.store.key('gateway', 'counts'),
      key,
      JSON.stringify(result),
      firstCounter,
      callsCounter,
    )) as string;
    return JSON.parse(stored) as unknown;
  }
}
