import type { CancellationReason, OrderItem } from '@app/contracts';
import { UnrecoverableError } from 'bullmq';
import type { MailJobData, OrderCancelledMail, OrderConfirmedMail } from './mail-job';

/** A rendered mail without its recipient. */
export interface RenderedMail {
  subject: string;
  text: string;
}

const REASONS: Record<CancellationReason, string> = {
  'payment-declined': 'your payment was declined',
  'out-of-stock': 'some items are out of stock',
};

/** Renders the subject and plain-text body of a mail job. Unknown templates are unrecoverable (no retry helps). */
export function renderMail(job: MailJobData): RenderedMail {
  switch (job.template) {
    case 'order-confirmed':
      return renderConfirmed(job);
    case 'order-cancelled':
      return renderCancelled(job);
    default:
      throw new UnrecoverableError(`unknown mail template "${(job as { template?: unknown }).template}"`);
  }
}

function renderConfirmed(job: OrderConfirmedMail): RenderedMail {
  return {
    subject: `Your order ${job.orderId} is confirmed`,
    text: [
      'Hello,',
      '',
      `thank you for your order ${job.orderId}. Your payment went through and the order will ship soon.`,
      '',
      ...itemLines(job.items, job.currency),
      `Total: ${money(job.total, job.currency)}`,
      '',
      `Payment reference: ${job.paymentId}`,
    ].join('\n'),
  };
}

function renderCancelled(job: OrderCancelledMail): RenderedMail {
  return {
    subject: `Your order ${job.orderId} was cancelled`,
    text: [
      'Hello,',
      '',
      `we are sorry: your order ${job.orderId} was cancelled because ${REASONS[job.reason] ?? job.reason}.`,
      ...(job.detail ? [`Detail: ${job.detail}`] : []),
      '',
      ...itemLines(job.items, job.currency),
      `Total: ${money(job.total, job.currency)}`,
      '',
      'If any amount was charged for this order, it is refunded in full.',
    ].join('\n'),
  };
}

function itemLines(items: OrderItem[], currency: string): string[] {
  return items.map(
    (item) =>
      `  ${item.quantity} x ${item.name} (${item.sku}) at ${money(item.unitPrice, currency)} = ${money(item.unitPrice * item.quantity, currency)}`,
  );
}

function money(amount: number, currency: string): string {
  return `${amount.toFixed(2)} ${currency}`;
}
