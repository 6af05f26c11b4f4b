import type { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import request from 'supertest';
import { EventPublisher } from '@nest-streams/event-bus';
import { createTestPlatformApp } from '../../../test/support/platform-app';
import { testRedisClient, waitFor } from '../../../test/support/redis';
import { EmailModule } from '@app/email';
import { orderCancelled, orderConfirmed, paymentSucceeded } from './support/order-events';

/** The email service as its main.ts boots it (recording transport), driven by events and HTTP. */
describe('email service (real Redis)', () => {
  let app: INestApplication;
  let namespace: string;
  let redis: Redis;

  beforeAll(async () => {
    ({ app, namespace } = await createTestPlatformApp([EmailModule], { env: { EMAIL_RETRY_DELAY_MS: '20' } }));
    redis = testRedisClient();
  });

  afterAll(async () => {
    await app?.close();
    await redis?.quit();
  });

  const http = () => request(app.getHttpServer());
  const publish = (event: object) => app.get(EventPublisher).publish(event);

  async function mailsTo(to: string): Promise<Array<Record<string, any>>> {
    const res = await http().get('/emails').query({ to }).expect(200);
    return res.body;
  }

  it('mails one confirmation naming the order, its lines and its total', async () => {
    await publish(orderConfirmed('ORD-C1', 'ada@example.com'));
    await waitFor('the confirmation mail', async () => (await mailsTo('ada@example.com')).length > 0);
    await new Promise((r) => setTimeout(r, 200));

    const mails = await mailsTo('ada@example.com');
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({
      id: 'mail.ORD-C1.confirmed',
      to: 'ada@example.com',
      subject: 'Your order ORD-C1 is confirmed',
      template: 'order-confirmed',
      orderId: 'ORD-C1',
      attempts: 1,
      messageId: expect.stringMatching(/@email-service\.local>$/),
    });
    expect(mails[0].text).toContain('2 x Enamel mug (SKU-MUG) at 12.50 EUR = 25.00 EUR');
    expect(mails[0].text).toContain('Total: 49.00 EUR');
    expect(Date.parse(mails[0].sentAt)).not.toBeNaN();

    const one = await http().get('/emails/mail.ORD-C1.confirmed').expect(200);
    expect(one.body).toEqual(mails[0]);
    const upper = await mailsTo('ADA@example.com');
    expect(upper).toHaveLength(1);
  });

  it.each([
    ['payment-declined', 'card declined by issuer', 'because your payment was declined.'],
    ['out-of-stock', 'SKU-LTD: requested 2, available 1', 'because some items are out of stock.'],
  ] as const)(
    'mails one cancellation for %s, with the reason in words and the refund',
    async (reason, detail, words) => {
      const to = `${reason}@example.com`;
      await publish(orderCancelled(`ORD-X-${reason}`, to, reason, detail));
      await waitFor('the cancellation mail', async () => (await mailsTo(to)).length > 0);
      await new Promise((r) => setTimeout(r, 200));

      const mails = await mailsTo(to);
      expect(mails).toHaveLength(1);
      expect(mails[0]).toMatchObject({
        subject: `Your order ORD-X-${reason} was cancelled`,
        template: 'order-cancelled',
      });
      expect(mails[0].text).toContain(words);
      expect(mails[0].text).toContain(`Detail: ${detail}`);
      expect(mails[0].text).toContain('If any amount was charged for this order, it is refunded in full.');
    },
  );

  it('sends nothing on PaymentSucceeded alone (the order may still be cancelled for stock)', async () => {
    await publish(paymentSucceeded('ORD-P1', 'paid@example.com'));
    // A later order outcome as a marker: once its mail is out, the payment had time to be seen too.
    await publish(orderCancelled('ORD-P-MARK', 'marker@example.com', 'out-of-stock', 'SKU-LTD'));
    await waitFor('the marker mail', async () => (await mailsTo('marker@example.com')).length > 0);
    await new Promise((r) => setTimeout(r, 500));

    expect(await mailsTo('paid@example.com')).toEqual([]);
    const jobKeys = await redis.keys(`${namespace}:bull:email:mail.ORD-P1.*`);
    expect(jobKeys).toEqual([]);
    expect(await redis.exists(`${namespace}:bull:email:mail.ORD-P-MARK.cancelled`)).toBe(1);
  });

  it('lists every mail newest first, and keeps BullMQ and service keys in the namespace', async () => {
    const all = (await http().get('/emails').expect(200)).body as Array<{ id: string }>;
    const ids = all.map((mail) => mail.id);
    expect(ids).toEqual(expect.arrayContaining(['mail.ORD-C1.confirmed', 'mail.ORD-X-payment-declined.cancelled']));
    expect(ids.indexOf('mail.ORD-P-MARK.cancelled')).toBeLessThan(ids.indexOf('mail.ORD-C1.confirmed'));
    expect((await http().get('/emails').query({ limit: 1 }).expect(200)).body).toHaveLength(1);

    expect(await redis.llen(`${namespace}:svc:email:mails`)).toBe(all.length);
    expect(await redis.exists(`${namespace}:svc:email:mail:mail.ORD-C1.confirmed`)).toBe(1);
    expect(await redis.exists(`${namespace}:bull:email:meta`)).toBe(1);
  });

  it('answers 400 naming the field for bad filters, and 404 for an unknown mail', async () => {
    const badTo = await http().get('/emails').query({ to: 'not-an-address' }).expect(400);
    expect(badTo.body.message).toEqual(['to must be an email address']);
    const badLimit = await http().get('/emails').query({ limit: 0 }).expect(400);
    expect(badLimit.body.message).toEqual(['limit must be at least 1']);
    const unknown = await http().get('/emails').query({ colour: 'red' }).expect(400);
    expect(unknown.body.message).toEqual(['property colour should not exist']);
    const missing = await http().get('/emails/mail.ORD-NONE.confirmed').expect(404);
    expect(missing.body.message).toContain('mail.ORD-NONE.confirmed');
    await http().post('/emails/failed/mail.ORD-NONE.confirmed/retry').expect(404);
  });

  it('documents the endpoints in Swagger', async () => {
    const doc = await http().get('/docs-json').expect(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/emails', '/emails/failed', '/emails/{id}', '/emails/failed/{id}/retry']),
    );
  });
});
