import { Inject, Injectable, Logger } from '@nestjs/common';
import { OrderCancelled, OrderPlaced, PaymentFailed, PaymentRefunded, PaymentSucceeded } from '@app/contracts';
import { EventContext, OutgoingEvent, Subscribe } from '@nest-streams/event-bus';
import { PAYMENT_GATEWAY, PaymentGateway } from './gateway/payment-gateway';
import type { PaymentRecord } from './payment-record';
import { PaymentRecordRepository } from './payment-record.repository';

/**
 * Charges every placed order once and refunds every cancelled order that was charged, once,
 * whatever is redelivered, replayed or arrives out of order: the intent is recorded before the
 * gateway call, the gateway call is idempotent by order, a cancellation marks the order so a
 * later OrderPlaced never charges it, and a cancellation that finds a charge in flight settles it
 * (same idempotency key) and refunds it. Each fact (`<orderId>:payment-succeeded`,
 * `:payment-failed`, `:refunded`) is published once, by ctx.commit, in one MULTI with the
 * record's "announced" mark and the acknowledgement.
 */
@Injectable()
export class PaymentService {
  private readonly logger = new Logger(PaymentService.name);

  constructor(
    private readonly records: PaymentRecordRepository,
    @Inject(PAYMENT_GATEWAY) private readonly gateway: PaymentGateway,
  ) {}

  @Subscribe(OrderPlaced)
  async onOrderPlaced(order: OrderPlaced, ctx: EventContext): Promise<void> {
    const start = await this.records.beginCharge(order);
    if (start === 'cancelled') {
      this.logger.warn(`order ${order.orderId} was cancelled before it was charged: not charging it`);
      return;
    }
    // NOTE: `pending` is an earlier delivery that died (or is still waiting) after recording the intent; the gateway's idempotency key makes the repeat safe.
    if (start === 'new' || start === 'pending') await this.charge(order);
    const record = await this.records.find(order.orderId);
    // NOTE: a record already refunding or refunded is announced by the refund (charge included).
    if (!record || record.chargeAnnounced || (record.status !== 'charged' && record.status !== 'declined')) return;
    await ctx.commit((tx) => this.records.markAnnounced(tx, record.orderId, { charge: true }), {
      publish: [chargeOutcome(record)],
    });
  }

  @Subscribe(OrderCancelled)
  async onOrderCancelled(cancelled: OrderCancelled, ctx: EventContext): Promise<void> {
    const { orderId } = cancelled;
    let start = await this.records.beginRefund(orderId);
    if (start === 'pending') {
      // NOTE: a charge whose delivery died (or runs elsewhere) after recording its intent: settle it
      // here by its idempotency key, so the refund does not depend on that delivery coming first.
      const record = (await this.records.find(orderId))!;
      await this.charge({ orderId, total: record.amount, currency: record.currency, userId: record.userId });
      start = await this.records.beginRefund(orderId);
    }
    if (start === 'pending')
      throw new Error(`the charge of order ${orderId} could not be settled yet; the refund waits for it (retried)`);
    if (start === 'none' || start === 'declined') {
      this.logger.log(`order ${orderId} cancelled (${cancelled.reason}) without a charge: nothing to refund`);
      return;
    }
    if (start === 'refunding') {
      const record = await this.records.find(orderId);
      await this.gateway.refund({
        idempotencyKey: `refund:${orderId}`,
        paymentId: record!.paymentId!,
        amount: record!.amount,
      });
      await this.records.settleRefund(orderId, new Date());
    }
    const record = await this.records.find(orderId);
    if (record?.status !== 'refunded' || record.refundAnnounced) return;
    // NOTE: a charge settled by the cancellation itself was never announced: its PaymentSucceeded goes out first.
    const publish = record.chargeAnnounced ? [refundOf(record)] : [chargeOutcome(record), refundOf(record)];
    await ctx.commit((tx) => this.records.markAnnounced(tx, orderId, { charge: true, refund: true }), { publish });
  }

  /** Asks the gateway (idempotent by order) and records its answer on the `pending` record. */
  private async charge(order: Pick<OrderPlaced, 'orderId' | 'total' | 'currency' | 'userId'>): Promise<void> {
    const result = await this.gateway.charge({
      idempotencyKey: order.orderId,
      amount: order.total,
      currency: order.currency,
      userId: order.userId,
    });
    await this.records.settleCharge(order.orderId, result, new Date());
  }
}

/** PaymentSucceeded of a record that was charged (it may be refunded since), else PaymentFailed. */
function chargeOutcome(r: PaymentRecord): OutgoingEvent {
  if (r.paymentId && r.chargedAt) {
    const event = new PaymentSucceeded({
      orderId: r.orderId,
      userId: r.userId,
      userEmail: r.userEmail,
      paymentId: r.paymentId,
      amount: r.amount,
      currency: r.currency,
      chargedAt: r.chargedAt,
    });
    return { event, options: { id: `${r.orderId}:payment-succeeded`, time: new Date(r.chargedAt) } };
  }
  const event = new PaymentFailed({
    orderId: r.orderId,
    userId: r.userId,
    userEmail: r.userEmail,
    amount: r.amount,
    currency: r.currency,
    reason: r.reason!,
    failedAt: r.failedAt!,
  });
  return { event, options: { id: `${r.orderId}:payment-failed`, time: new Date(r.failedAt!) } };
}

function refundOf(r: PaymentRecord): OutgoingEvent {
  const event = new PaymentRefunded({
    orderId: r.orderId,
    userId: r.userId,
    userEmail: r.userEmail,
    paymentId: r.paymentId!,
    amount: r.amount,
    currency: r.currency,
    refundedAt: r.refundedAt!,
  });
  return { event, options: { id: `${r.orderId}:refunded`, time: new Date(r.refundedAt!) } };
}
