import type { RawEvent } from '../../../test/support/streams';

type Line = { sku: string; quantity: number };

const fat = (orderId: string, items: Line[]) => ({
  orderId,
  userId: 'user-1',
  userEmail: 'ada@example.com',
  items: items.map((i) => ({ ...i, name: i.sku, unitPrice: 10 })),
  total: items.reduce((sum, i) => sum + 10 * i.quantity, 0),
  currency: 'EUR',
});

/** An OrderPlaced as the order service would publish it. */
export const orderPlaced = (orderId: string, items: Line[], id?: string): RawEvent => ({
  stream: 'orders',
  type: 'OrderPlaced',
  source: 'order-service',
  id,
  data: { ...fat(orderId, items), placedAt: new Date().toISOString() },
});

/** An OrderCancelled as the order service would publish it. */
export const orderCancelled = (orderId: string, items: Line[], id?: string): RawEvent => ({
  stream: 'orders',
  type: 'OrderCancelled',
  source: 'order-service',
  id,
  data: {
    ...fat(orderId, items),
    reason: 'payment-declined',
    detail: 'payment declined: card declined',
    cancelledAt: new Date().toISOString(),
  },
});
