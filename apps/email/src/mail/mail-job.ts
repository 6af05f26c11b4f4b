import type { CancellationReason, OrderItem } from '@app/contracts';

/** The templates the worker can render. */
export type MailTemplate = 'order-confirmed' | 'order-cancelled';

interface OrderMailBase {
  /** Recipient. */
  to: string;
  orderId: string;
  items: OrderItem[];
  total: number;
  currency: string;
  /** Id of the event that asked for the mail (the job's cause, for tracing). */
  eventId: string;
}

/** "Your order is confirmed": everything the template needs travels in the job (no lookups). */
export interface OrderConfirmedMail extends OrderMailBase {
  template: 'order-confirmed';
  paymentId: string;
}

/** "Your order was cancelled", with the reason. */
export interface OrderCancelledMail extends OrderMailBase {
  template: 'order-cancelled';
  reason: CancellationReason;
  detail: string;
}

/** Data of one job on the `email` queue. */
export type MailJobData = OrderConfirmedMail | OrderCancelledMail;

const SUFFIX: Record<MailTemplate, string> = { 'order-confirmed': 'confirmed', 'order-cancelled': 'cancelled' };

/**
 * The job id of the mail a business fact asks for: `mail.<orderId>.confirmed` /
 * `mail.<orderId>.cancelled`. One fact, one id, so a replayed or re-published event adds
 * nothing (BullMQ ignores an add whose id exists). It is also the mail's id in the sent log.
 *
 * NOTE: dots, not colons: BullMQ 6 rejects custom ids with a ':' unless they split into exactly
 * three parts (a leftover of old repeatable jobs, announced to become a plain ban), so an order
 * id holding a ':' would break `mail:<orderId>:confirmed`. The order id is URI-encoded so the id
 * stays unambiguous.
 */
export function mailJobId(template: MailTemplate, orderId: string): string {
  return `mail.${encodeURIComponent(orderId)}.${SUFFIX[template]}`;
}
