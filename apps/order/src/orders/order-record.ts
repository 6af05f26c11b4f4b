import type { CancellationReason, OrderItem } from '@app/contracts';

export const ORDER_STATUSES = ['Pending', 'Confirmed', 'Cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * An order as stored in its hash `order:<id>` of the order store (see OrderRepository). The saga script adds `inventory`,
 * `paymentId`, `reason`, `detail`, `decidedAt`, `decidedBy` (event id), `decidedEntry` (stream
 * entry id) and, once the outcome event is out, `announced`.
 */
export interface OrderRecord {
  orderId: string;
  userId: string;
  email: string;
  items: OrderItem[];
  total: number;
  currency: string;
  placedAt: string;
  status: OrderStatus;
  /** The code the customer entered, if any (carried on OrderPlaced v2). */
  discountCode?: string;
  paymentId?: string;
  reason?: CancellationReason;
  detail?: string;
  /** When the order became Confirmed or Cancelled. */
  decidedAt?: string;
}

/** One event that moved an order (an entry of the order's history list, see OrderRepository). */
export interface HistoryEntry {
  type: string;
  eventId: string;
  time: string;
  source: string;
}

/** The hash fields of a new (Pending) order. */
export function toHash(order: OrderRecord): Record<string, string> {
  const hash: Record<string, string> = {
    orderId: order.orderId,
    userId: order.userId,
    email: order.email,
    items: JSON.stringify(order.items),
    total: String(order.total),
    currency: order.currency,
    placedAt: order.placedAt,
    status: order.status,
  };
  if (order.discountCode) hash.discountCode = order.discountCode;
  return hash;
}

/** The record of a hash, or undefined for a missing (empty) hash. */
export function fromHash(hash: Record<string, string>): OrderRecord | undefined {
  if (!hash.orderId) return undefined;
  return {
    orderId: hash.orderId,
    userId: hash.userId,
    email: hash.email,
    items: JSON.parse(hash.items) as OrderItem[],
    total: Number(hash.total),
    currency: hash.currency,
    placedAt: hash.placedAt,
    status: hash.status as OrderStatus,
    discountCode: hash.discountCode || undefined,
    paymentId: hash.paymentId || undefined,
    reason: (hash.reason || undefined) as CancellationReason | undefined,
    detail: hash.detail || undefined,
    decidedAt: hash.decidedAt || undefined,
  };
}
