import { Injectable, Logger } from '@nestjs/common';
import {
  InventoryReservationFailed,
  InventoryReserved,
  OrderCancelled,
  OrderConfirmed,
  PaymentFailed,
  PaymentSucceeded,
} from '@app/contracts';
import { EventContext, Subscribe } from '@nest-streams/event-bus';
import type { HistoryEntry, OrderRecord } from '../orders/order-record';
import { OrderRepository } from '../orders/order.repository';
import type { SagaStep } from './order-transition.script';

/**
 * The order saga. Confirmed once both InventoryReserved and PaymentSucceeded arrived (either
 * order); Cancelled on PaymentFailed (`payment-declined`) or InventoryReservationFailed
 * (`out-of-stock`). The decision is one Lua script per event, so two handlers of one order
 * (two instances) cannot both decide it. The outcome is published by `ctx.commit()`, in one MULTI
 * with the order's "announced" mark and the acknowledgement, with the id `<orderId>:confirmed` /
 * `<orderId>:cancelled`: a crash before the commit has the deciding entry delivered again, and the
 * script lets that entry (only) announce the outcome it decided.
 */
@Injectable()
export class OrderSagaHandler {
  private readonly logger = new Logger(OrderSagaHandler.name);

  constructor(private readonly orders: OrderRepository) {}

  @Subscribe(InventoryReserved)
  onInventoryReserved(event: InventoryReserved, ctx: EventContext): Promise<void> {
    return this.apply(event.orderId, { kind: 'inventory-reserved' }, ctx);
  }

  @Subscribe(PaymentSucceeded)
  onPaymentSucceeded(event: PaymentSucceeded, ctx: EventContext): Promise<void> {
    return this.apply(event.orderId, { kind: 'payment-succeeded', paymentId: event.paymentId }, ctx);
  }

  @Subscribe(PaymentFailed)
  onPaymentFailed(event: PaymentFailed, ctx: EventContext): Promise<void> {
    return this.apply(
      event.orderId,
      { kind: 'cancel', reason: 'payment-declined', detail: `payment declined: ${event.reason}` },
      ctx,
    );
  }

  @Subscribe(InventoryReservationFailed)
  onReservationFailed(event: InventoryReservationFailed, ctx: EventContext): Promise<void> {
    const lines = event.short.map((s) => `${s.sku} (requested ${s.requested}, available ${s.available})`);
    return this.apply(
      event.orderId,
      { kind: 'cancel', reason: 'out-of-stock', detail: `out of stock: ${lines.join(', ')}` },
      ctx,
    );
  }

  private async apply(orderId: string, step: SagaStep, ctx: EventContext): Promise<void> {
    const { id, type, time, source } = ctx.envelope;
    const entry: HistoryEntry = { type, eventId: id, time, source };
    const outcome = await this.orders.transition(orderId, entry, ctx.entryId, step);
    if (outcome === 'unknown') {
      this.logger.warn(`${type} ${id} is about order "${orderId}", which this service never placed: ignored`);
      return;
    }
    if (outcome !== 'Confirmed' && outcome !== 'Cancelled') return;
    const order = await this.orders.find(orderId);
    if (!order) throw new Error(`order ${orderId} vanished while its ${outcome} outcome was being published`);
    const suffix = outcome === 'Confirmed' ? 'confirmed' : 'cancelled';
    // NOTE: the outcome, the "announced" mark and the acknowledgement in one MULTI: announced once.
    await ctx.commit((tx) => this.orders.markAnnounced(tx, orderId, id), {
      publish: [
        {
          event: outcomeEvent(order),
          options: { id: `${orderId}:${suffix}`, time: order.decidedAt ? new Date(order.decidedAt) : undefined },
        },
      ],
    });
    this.logger.log(`order ${orderId} ${suffix} by ${type} ${id}`);
  }
}

/** The OrderConfirmed / OrderCancelled of a decided order, built from the stored record only (a re-announce is identical). */
function outcomeEvent(order: OrderRecord): OrderConfirmed | OrderCancelled {
  const common = {
    orderId: order.orderId,
    userId: order.userId,
    userEmail: order.email,
    items: order.items,
    total: order.total,
    currency: order.currency,
  };
  if (order.status === 'Confirmed') {
    return new OrderConfirmed({
      ...common,
      paymentId: order.paymentId ?? '',
      confirmedAt: order.decidedAt ?? new Date().toISOString(),
    });
  }
  return new OrderCancelled({
    ...common,
    reason: order.reason ?? 'out-of-stock',
    detail: order.detail ?? '',
    cancelledAt: order.decidedAt ?? new Date().toISOString(),
  });
}
