import { Injectable } from '@nestjs/common';
import { PaymentRefunded, PaymentSucceeded } from '@app/contracts';
import { EventContext, Subscribe } from '@nest-streams/event-bus';
import { LoyaltyLedgerRepository } from './loyalty-ledger.repository';
import { pointsFor } from './points';

/**
 * Awards points for every successful payment (`pointsFor`: 1 point per whole currency unit) and
 * takes them back when the payment is refunded. Once per order, whatever is redelivered or
 * replayed, even a copy with a new event id: the per-order check and the balance change run in
 * the same transaction as the acknowledgement.
 */
@Injectable()
export class LoyaltyService {
  constructor(private readonly ledger: LoyaltyLedgerRepository) {}

  @Subscribe(PaymentSucceeded)
  async onPaymentSucceeded(payment: PaymentSucceeded, ctx: EventContext): Promise<void> {
    await ctx.commit((tx) =>
      this.ledger.award(tx, payment.userId, payment.orderId, pointsFor(payment.amount), payment.chargedAt),
    );
  }

  @Subscribe(PaymentRefunded)
  async onPaymentRefunded(refund: PaymentRefunded, ctx: EventContext): Promise<void> {
    await ctx.commit((tx) => this.ledger.takeBack(tx, refund.userId, refund.orderId, refund.refundedAt));
  }
}
