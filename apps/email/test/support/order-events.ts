import { OrderCancelled, OrderConfirmed, PaymentSucceeded, type CancellationReason } from '@app/contracts';

const ITEMS = [
  { sku: 'SKU-MUG', name: 'Enamel mug', unitPrice: 12.5, quantity: 2 },
  { sku: 'SKU-TEE', name: 'Organic T-shirt', unitPrice: 24, quantity: 1 },
];

/** An OrderConfirmed for 2 mugs and a T-shirt: 49.00 EUR. */
export function orderConfirmed(orderId: string, userEmail: string): OrderConfirmed {
  return new OrderConfirmed({
    orderId,
    userId: `U-${orderId}`,
    userEmail,
    items: ITEMS,
    total: 49,
    currency: 'EUR',
    paymentId: `PAY-${orderId}`,
    confirmedAt: new Date().toISOString(),
  });
}

export function orderCancelled(
  orderId: string,
  userEmail: string,
  reason: CancellationReason,
  detail: string,
): OrderCancelled {
  return new OrderCancelled({
    orderId,
    userId: `U-${orderId}`,
    userEmail,
    items: ITEMS,
    total: 49,
    currency: 'EUR',
    reason,
    detail,
    cancelledAt: new Date().toISOString(),
  });
}

export function paymentSucceeded(orderId: string, userEmail: string): PaymentSucceeded {
  return new PaymentSucceeded({
    orderId,
    userId: `U-${orderId}`,
    userEmail,
    paymentId: `PAY-${orderId}`,
    amount: 49,
    currency: 'EUR',
    chargedAt: new Date().toISOString(),
  });
}
