/** Consumer group and store name of the order service. */
export const ORDER_SERVICE = 'order';

/** CloudEvents `source` of the events the order service publishes. */
export const ORDER_SOURCE = 'order-service';

/** Most units of one sku on one order line. */
export const MAX_LINE_QUANTITY = 100;

/** Most lines on one order. */
export const MAX_ORDER_LINES = 50;

/** Longest discount code `POST /orders` accepts. */
export const MAX_DISCOUNT_CODE_LENGTH = 40;
