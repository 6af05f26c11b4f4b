import { Injectable } from '@nestjs/common';
import { OrderCancelled, OrderConfirmed, OrderPlaced } from '@app/contracts';
import { EventContext, Subscribe } from '@nest-streams/event-bus';
import { AnalyticsRepository } from './analytics.repository';

/** `YYYY-MM-DD` of an ISO 8601 time, in UTC. */
export function utcDate(time: string): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** Money in whole cents. */
function cents(amount: number): number {
  return Math.round(amount * 100);
}

/**
 * Counts the order flow from its events alone: orders placed, confirmed (with revenue and units
 * per SKU) and cancelled (by reason), in total and per UTC day of the fact. Each fact counts once
 * per order, even when redelivered or replayed under a new event id: the per-order marker and
 * the counters change in the transaction that acknowledges the event.
 */
@Injectable()
export class AnalyticsService {
  constructor(private readonly analytics: AnalyticsRepository) {}

  @Subscribe(OrderPlaced)
  async onOrderPlaced(order: OrderPlaced, ctx: EventContext): Promise<void> {
    const { totals, daily } = this.analytics.keys;
    const day = utcDate(order.placedAt);
    const count = this.analytics
      .once(order.orderId, 'placed')
      .hincr(totals, 'placed', 1)
      .hincr(daily, `${day}:placed`, 1);
    await ctx.commit((tx) => count.queue(tx));
  }

  @Subscribe(OrderConfirmed)
  async onOrderConfirmed(order: OrderConfirmed, ctx: EventContext): Promise<void> {
    const { totals, daily, skus } = this.analytics.keys;
    const day = utcDate(order.confirmedAt);
    const revenue = cents(order.total);
    const count = this.analytics
      .once(order.orderId, 'confirmed')
      .hincr(totals, 'confirmed', 1)
      .hincr(totals, 'revenueCents', revenue)
      .hincr(daily, `${day}:confirmed`, 1)
      .hincr(daily, `${day}:revenueCents`, revenue);
    for (const item of order.items) count.zincr(skus, item.sku, item.quantity);
    await ctx.commit((tx) => count.queue(tx));
  }

  @Subscribe(OrderCancelled)
  async onOrderCancelled(order: OrderCancelled, ctx: EventContext): Promise<void> {
    const { totals, daily, byReason } = this.analytics.keys;
    const day = utcDate(order.cancelledAt);
    const count = this.analytics
      .once(order.orderId, 'cancelled')
      .hincr(totals, 'cancelled', 1)
      .hincr(byReason, order.reason, 1)
      .hincr(daily, `${day}:cancelled`, 1);
    await ctx.commit((tx) => count.queue(tx));
  }
}
