import type { RawEvent } from '../../../test/support/streams';

/** The part of an order view the saga events are built from. */
export interface PlacedOrder {
  orderId: string;
  userId: string;
  email: string;
  total: number;
  currency: string;
  items: Array<{ sku: string; quantity: number }>;
}

const now = (): string => new Date().toISOString();

export const inventoryReserved = (o: PlacedOrder): RawEvent => ({
  stream: 'inventory',
  type: 'InventoryReserved',
  source: 'inventory-service',
  data: { orderId: o.orderId, lines: o.items.map(({ sku, quantity }) => ({ sku, quantity })), reservedAt: now() },
});

export const reservationFailed = (o: PlacedOrder, sku: string): RawEvent => ({
  stream: 'inventory',
  type: 'InventoryReservationFailed',
  source: 'inventory-service',
  data: {
    orderId: o.orderId,
    short: [{ sku, requested: o.items.find((i) => i.sku === sku)!.quantity, available: 0 }],
    failedAt: now(),
  },
});

export const paymentSucceeded = (o: PlacedOrder): RawEvent => ({
  stream: 'payments',
  type: 'PaymentSucceeded',
  source: 'payment-service',
  data: {
    orderId: o.orderId,
    userId: o.userId,
    userEmail: o.email,
    paymentId: `PAY-${o.orderId}`,
    amount: o.total,
    currency: o.currency,
    chargedAt: now(),
  },
});

export const paymentFailed = (o: PlacedOrder): RawEvent => ({
  stream: 'payments',
  type: 'PaymentFailed',
  source: 'payment-service',
  data: {
    orderId: o.orderId,
    userId: o.userId,
    userEmail: o.email,
    amount: o.total,
    currency: o.currency,
    reason: 'card declined',
    failedAt: now(),
  },
});
