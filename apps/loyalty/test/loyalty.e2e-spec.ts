import { groupCaughtUp } from '../../../test/support/streams';
import type { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import request from 'supertest';
import { CURRENCY, PaymentRefunded, PaymentSucceeded } from '@app/contracts';
import { EventBusCore, EventPublisher } from '@nest-streams/event-bus';
import { createTestPlatformApp } from '../../../test/support/platform-app';
import { testRedisClient, waitFor } from '../../../test/support/redis';
import { LoyaltyModule } from '@app/loyalty';

function succeeded(orderId: string, userId: string, amount: number, chargedAt: string): PaymentSucceeded {
  return new PaymentSucceeded({
    orderId,
    userId,
    userEmail: `${userId}@example.com`,
    paymentId: `pay_${orderId}`,
    amount,
    currency: CURRENCY,
    chargedAt,
  });
}

function refunded(payment: PaymentSucceeded, refundedAt: string): PaymentRefunded {
  const { chargedAt: _chargedAt, ...rest } = payment;
  return new PaymentRefunded({ ...rest, refundedAt });
}

/** The loyalty service as other services see it: payment events in, GET /loyalty/:userId out. */
describe('loyalty service (real Redis)', () => {
  let app: INestApplication;
  let namespace: string;
  let redis: Redis;
  let payments: EventPublisher;

  const account = async (userId: string) =>
    (await request(app.getHttpServer()).get(`/loyalty/${userId}`).expect(200)).body;

  /** Every entry of the payments stream handled and acknowledged by the loyalty group. */
  async function drained(): Promise<void> {
    await waitFor('loyalty group drained', () => groupCaughtUp(redis, namespace, 'payments', 'loyalty'));
  }

  beforeAll(() => {
    redis = testRedisClient();
  });
  beforeEach(async () => {
    ({ app, namespace } = await createTestPlatformApp([LoyaltyModule]));
    payments = new EventPublisher(app.get(EventBusCore), 'payment-service');
  });
  afterEach(async () => {
    await app?.close();
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('awards floor(amount) points per payment, once per order under duplicate deliveries', async () => {
    const first = succeeded('ORD-1', 'u-alice', 37.4, '2025-03-14T09:00:00.000Z');
    const second = succeeded('ORD-2', 'u-alice', 100, '2025-03-14T10:00:00.000Z');
    const published = await payments.publish(first);
    await payments.publish(first, { id: published.envelope.id });
    await payments.publish(first);
    await payments.publish(second);
    await payments.publish(second);
    await drained();

    expect(await account('u-alice')).toEqual({
      userId: 'u-alice',
      points: 137,
      history: [
        { orderId: 'ORD-1', points: 37, reason: 'payment', at: '2025-03-14T09:00:00.000Z' },
        { orderId: 'ORD-2', points: 100, reason: 'payment', at: '2025-03-14T10:00:00.000Z' },
      ],
    });
  });

  it('takes back exactly what a refunded order earned, once, and a later copy of its payment earns nothing', async () => {
    const kept = succeeded('ORD-K', 'u-bob', 24, '2025-03-14T09:00:00.000Z');
    const lost = succeeded('ORD-L', 'u-bob', 59.9, '2025-03-14T09:10:00.000Z');
    await payments.publishMany([kept, lost]);
    await drained();
    expect((await account('u-bob')).points).toBe(83);

    const refund = refunded(lost, '2025-03-14T11:00:00.000Z');
    const published = await payments.publish(refund);
    await payments.publish(refund, { id: published.envelope.id });
    await payments.publish(refund);
    await payments.publish(lost);
    await drained();

    expect(await account('u-bob')).toEqual({
      userId: 'u-bob',
      points: 24,
      history: [
        { orderId: 'ORD-K', points: 24, reason: 'payment', at: '2025-03-14T09:00:00.000Z' },
        { orderId: 'ORD-L', points: 59, reason: 'payment', at: '2025-03-14T09:10:00.000Z' },
        { orderId: 'ORD-L', points: -59, reason: 'refund', at: '2025-03-14T11:00:00.000Z' },
      ],
    });
  });

  it('takes nothing back for a refund of an order that earned nothing', async () => {
    await payments.publish(succeeded('ORD-TINY', 'u-carol', 0.5, '2025-03-14T09:00:00.000Z'));
    await payments.publish(
      refunded(succeeded('ORD-TINY', 'u-carol', 0.5, '2025-03-14T09:00:00.000Z'), '2025-03-14T09:30:00.000Z'),
    );
    await payments.publish(
      refunded(succeeded('ORD-NEVER', 'u-carol', 40, '2025-03-14T09:00:00.000Z'), '2025-03-14T09:30:00.000Z'),
    );
    await drained();
    expect(await account('u-carol')).toEqual({ userId: 'u-carol', points: 0, history: [] });
  });

  it('answers 0 points and an empty history for a user it has never seen', async () => {
    expect(await account('u-nobody')).toEqual({ userId: 'u-nobody', points: 0, history: [] });
  });
});
