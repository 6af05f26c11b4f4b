import { UnrecoverableError } from 'bullmq';
import { mailJobId, type MailJobData } from './mail-job';
import { renderMail } from './mail-templates';

const order = {
  to: 'ada@example.com',
  orderId: 'ORD-7701',
  items: [
    { sku: 'SKU-MUG', name: 'Enamel mug', unitPrice: 12.5, quantity: 2 },
    { sku: 'SKU-TEE', name: 'Organic T-shirt', unitPrice: 24, quantity: 1 },
  ],
  total: 49,
  currency: 'EUR',
  eventId: 'evt-1',
};

describe('renderMail', () => {
  it('confirms the order with its lines and total', () => {
    const mail = renderMail({ ...order, template: 'order-confirmed', paymentId: 'PAY-1' });
    expect(mail.subject).toBe('Your order ORD-7701 is confirmed');
    expect(mail.text).toContain('2 x Enamel mug (SKU-MUG) at 12.50 EUR = 25.00 EUR');
    expect(mail.text).toContain('1 x Organic T-shirt (SKU-TEE) at 24.00 EUR = 24.00 EUR');
    expect(mail.text).toContain('Total: 49.00 EUR');
    expect(mail.text).toContain('PAY-1');
  });

  it.each([
    ['payment-declined', 'because your payment was declined.'],
    ['out-of-stock', 'because some items are out of stock.'],
  ] as const)('cancels for %s with the reason in words and the refund', (reason, words) => {
    const mail = renderMail({ ...order, template: 'order-cancelled', reason, detail: 'card expired' });
    expect(mail.subject).toBe('Your order ORD-7701 was cancelled');
    expect(mail.text).toContain(words);
    expect(mail.text).toContain('Detail: card expired');
    expect(mail.text).toContain('refunded in full');
  });

  it('refuses an unknown template without retries', () => {
    expect(() => renderMail({ ...order, template: 'newsletter' } as unknown as MailJobData)).toThrow(
      UnrecoverableError,
    );
  });
});

describe('mailJobId', () => {
  it('is one id per order and outcome, without colons', () => {
    expect(mailJobId('order-confirmed', 'ORD-7701')).toBe('mail.ORD-7701.confirmed');
    expect(mailJobId('order-cancelled', 'ORD-7701')).toBe('mail.ORD-7701.cancelled');
    expect(mailJobId('order-confirmed', 'tenant:42')).toBe('mail.tenant%3A42.confirmed');
  });
});
