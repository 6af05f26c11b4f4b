import type { OrderSummaryDto } from '../dto/order-page.dto';
import type { OrderViewDto } from '../dto/order-view.dto';
import type { HistoryEntry, OrderRecord } from './order-record';

/** What `GET /orders/:id` shows of an order. */
export function toOrderView(order: OrderRecord, history: HistoryEntry[]): OrderViewDto {
  const view: OrderViewDto = {
    orderId: order.orderId,
    status: order.status,
    userId: order.userId,
    email: order.email,
    items: order.items,
    total: order.total,
    currency: order.currency,
    placedAt: order.placedAt,
    history,
  };
  if (order.discountCode) view.discountCode = order.discountCode;
  if (order.paymentId) view.paymentId = order.paymentId;
  if (order.status === 'Confirmed') view.confirmedAt = order.decidedAt;
  if (order.status === 'Cancelled' && order.reason) {
    view.cancellation = { reason: order.reason, detail: order.detail ?? '', cancelledAt: order.decidedAt ?? '' };
  }
  return view;
}

/** One line of `GET /orders`. */
export function toOrderSummary(order: OrderRecord): OrderSummaryDto {
  const summary: OrderSummaryDto = {
    orderId: order.orderId,
    status: order.status,
    userId: order.userId,
    total: order.total,
    currency: order.currency,
    placedAt: order.placedAt,
  };
  if (order.reason) summary.cancellationReason = order.reason;
  return summary;
}
