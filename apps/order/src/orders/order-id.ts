import { randomBytes } from 'node:crypto';

/**
 * A new order id, `ORD-` + 8 base-36 characters of time + 6 random hex: short, readable,
 * roughly sortable by creation time (`ORD-MB2K1X7Q-3FA91C`).
 */
export function newOrderId(now = Date.now()): string {
  return `ORD-${now.toString(36).toUpperCase().padStart(8, '0')}-${randomBytes(3).toString('hex').toUpperCase()}`;
}

const ORDER_ID = /^ORD-[A-Z0-9]{1,16}-[A-F0-9]{1,16}$/;

/** Whether `id` has the shape of an id this service gives out (anything else is nobody's order here). */
export function isOrderId(id: string): boolean {
  return ORDER_ID.test(id);
}
