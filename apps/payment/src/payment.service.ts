import { Inject, Injectable, Logger } from '@nestjs/common';
import { OrderCancelled, OrderPlaced, PaymentFailed, PaymentRefunded, PaymentSucceeded } from '@app/contracts';
import { EventPublisher, Subscribe } from '@app/event-bus';
import { PAYMENT_GATEWAY, PaymentGateway } from './gateway/payment-gateway';
import type { PaymentRecord } from './payment-record';
import { PaymentRecordRepository } from './payment-record.repository';

/**
 * Charges every placed order once and refunds every cancelled order that was charged, once,
 * whatever is redelivered or replayed: the intent is recorded before the gateway call, the
 * gateway call is idempotent by order, and the events published carry ids derived from the
 * order (`<orderId>:payment-succeeded`, `:payment-failed`, `:refunded`), so a repeat announces
 * the same event again and downstream dedupe drops it.
 */
@Injectable()
export class PaymentService {
  private readonly logger = new Logger(PaymentService.name);

  constructor(
    private readonly records: PaymentRecordRepository,
    @Inject(PAYMENT_GATEWAY) private readonly gateway: PaymentGateway,
    private readonly publisher: EventPublisher,
  ) {}

  @Subscribe(OrderPlaced)
  async onOrderPlaced(order: OrderPlaced): Promise<void> {
    const start = await this.records.beginCharge(order);
    if (start === 'cancelled') {
      this.logger.warn(`order ${order.orderId} was cancelled before it was charged: not charging it`);
      return;
    }
    if (start === 'new' || start === 'pending') {
      // NOTE: `pending` is an earlier delivery that died (or is still waiting) after recording the intent; the gateway's idempotency key makes the repeat safe.
      const result = await this.gateway.charge({ idempotencyKey: order.orderId, amount: order.total, currency: order.currency, userId: order.userId });
      await this.records.settleCharge(order.orderId, result, new Date());
    }
    const record = await this.records.find(order.orderId);
    if (record?.status === 'charged') await this.announceCharged(record);
    else if (record?.status === 'declined') await this.announceDeclined(record);
  }

  @Subscribe(OrderCancelled)
  async onOrderCancelled(cancelled: OrderCancelled): Promise<void> {
    const start = await this.records.beginRefund(cancelled.orderId);
    if (start === 'none' || start === 'declined') {
      this.logger.log(`order ${cancelled.orderId} cancelled (${cancelled.reason}) without a charge: nothing to refund`);
      return;
    }
    if (start === 'pending') {
      throw new Error(`the charge of order ${cancelled.orderId} is still in flight; the refund waits for it (retried)`);
    }
    if (start === 'refunding') {
      const record = await this.records.find(cancelled.orderId);
      await this.gateway.refund({ idempotencyKey: `refund:${cancelled.orderId}`, paymentId: record!.paymentId!, amount: record!.amount });
      await this.records.settleRefund(cancelled.orderId, new Date());
    }
    const record = await this.records.find(cancelled.orderId);
    if (record?.status === 'refunded') await this.announceRefunded(record);
  }

  private async announceCharged(r: PaymentRecord): Promise<void> {
    const event = new PaymentSucceeded({
      orderId: r.orderId, userId: r.userId, userEmail: r.userEmail, paymentId: r.paymentId!, amount: r.amount, currency: r.currency, chargedAt: r.chargedAt!,
    });
    await this.publisher.publish(event, { id: `${r.orderId}:payment-succeeded`, time: new Date(r.chargedAt!) });
  }

  private async announceDeclined(r: PaymentRecord): Promise<void> {
    const event = new PaymentFailed({
      orderId: r.orderId, userId: r.userId, userEmail: r.userEmail, amount: r.amount, currency: r.currency, reason: r.reason!, failedAt: r.failedAt!,
    });
    await this.publisher.publish(event, { id: `${r.orderId}:payment-failed`, time: new Date(r.failedAt!) });
  }

  private async announceRefunded(r: PaymentRecord): Promise<void> {
    const event = new PaymentRefunded({
      orderId: r.orderId, userId: r.userId, userEmail: r.userEmail, paymentId: r.paymentId!, amount: r.amount, currency: r.currency, refundedAt: r.refundedAt!,
    });
    await this.publisher.publish(event, { id: `${r.orderId}:refunded`, time: new Date(r.refundedAt!) });
  }
}
