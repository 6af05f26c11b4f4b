import { Injectable } from '@nestjs/common';
import { OrderCancelled, OrderConfirmed } from '@app/contracts';
import { Subscribe, type EventContext } from '@nest-streams/event-bus';
import { MailQueue } from './mail-queue.service';

/**
 * Turns order outcomes into "send this mail" commands. Only final outcomes mail: not
 * PaymentSucceeded, since an order paid for can still be cancelled for lack of stock.
 */
@Injectable()
export class OrderMailSubscriber {
  constructor(private readonly mails: MailQueue) {}

  @Subscribe(OrderConfirmed)
  async onOrderConfirmed(order: OrderConfirmed, ctx: EventContext): Promise<void> {
    await this.mails.enqueue({
      template: 'order-confirmed',
      to: order.userEmail,
      orderId: order.orderId,
      items: order.items,
      total: order.total,
      currency: order.currency,
      paymentId: order.paymentId,
      eventId: ctx.envelope.id,
    });
  }

  @Subscribe(OrderCancelled)
  async onOrderCancelled(order: OrderCancelled, ctx: EventContext): Promise<void> {
    await this.mails.enqueue({
      template: 'order-cancelled',
      to: order.userEmail,
      orderId: order.orderId,
      items: order.items,
      total: order.total,
      currency: order.currency,
      reason: order.reason,
      detail: order.detail,
      eventId: ctx.envelope.id,
    });
  }
}
