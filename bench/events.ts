import { randomUUID } from 'node:crypto';

/**
 * Fat OrderPlaced payloads and the raw-ioredis encoding of their envelope. Deliberately does NOT
 * import the library: the raw baseline must run even when the library does not load.
 */

export const STREAM = 'orders';
export const EVENT_TYPE = 'OrderPlaced';

export interface OrderProps {
  orderId: string;
  userId: string;
  userEmail: string;
  items: Array<{ sku: string; name: string; unitPrice: number; quantity: number }>;
  total: number;
  currency: string;
  placedAt: string;
}

const PLACED_AT = '2025-06-01T12:34:56.789Z';

/** One fat order, about 400 bytes of JSON (2 items). `tag` keeps order ids unique across runs. */
export function makeOrder(i: number, tag = 'b'): OrderProps {
  const user = i % 5000;
  return {
    orderId: `ord-${tag}-${i.toString().padStart(8, '0')}`,
    userId: `user-${user.toString().padStart(6, '0')}`,
    userEmail: `customer.${user}@shop.example.com`,
    items: [
      {
        sku: 'SKU-MUG-ENAMEL-350-GREEN',
        name: 'Enamel camping mug, 350 ml, forest green',
        unitPrice: 12.5,
        quantity: 2,
      },
      {
        sku: 'SKU-TEE-ORGANIC-M-NAVY',
        name: 'Organic cotton t-shirt, size M, navy blue',
        unitPrice: 24.9,
        quantity: 1,
      },
    ],
    total: 49.9,
    currency: 'EUR',
    placedAt: PLACED_AT,
  };
}

/** The PaymentSucceeded the commit phase derives from each order (~200 bytes of JSON). */
export interface PaymentProps {
  orderId: string;
  userId: string;
  userEmail: string;
  paymentId: string;
  amount: number;
  currency: string;
  chargedAt: string;
}

export const DERIVED_STREAM = 'payments';
export const DERIVED_TYPE = 'PaymentSucceeded';

export function paymentOf(
  order: Pick<OrderProps, 'orderId' | 'userId' | 'userEmail' | 'total' | 'currency' | 'placedAt'>,
): PaymentProps {
  return {
    orderId: order.orderId,
    userId: order.userId,
    userEmail: order.userEmail,
    paymentId: `pay-${order.orderId}`,
    amount: order.total,
    currency: order.currency,
    chargedAt: order.placedAt,
  };
}

/** Stream key of `stream` in `namespace`, as the library lays it out. */
export function streamKey(namespace: string, stream = STREAM): string {
  return `${namespace}:{${stream}}`;
}

/**
 * The same flat CloudEvents fields the library writes (see envelope.ts `encodeEnvelope`; OrderPlaced is v2,
 * the newest, so the library does not upcast: the happy path), built
 * per event: a fresh uuid, the current time, JSON of the payload, subject = orderId.
 */
export function rawFields(order: OrderProps, source = 'bench'): string[] {
  const id = randomUUID();
  return [
    'specversion',
    '1.0',
    'id',
    id,
    'type',
    EVENT_TYPE,
    'version',
    '2',
    'source',
    source,
    'time',
    new Date().toISOString(),
    'datacontenttype',
    'application/json',
    'data',
    JSON.stringify(order),
    'subject',
    order.orderId,
    'correlationid',
    id,
  ];
}

/** The `data` field of a raw entry's flat field list. */
export function dataField(fields: string[]): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'data') return fields[i + 1];
  return undefined;
}
