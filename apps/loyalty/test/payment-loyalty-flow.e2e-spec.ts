import type { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import request from 'supertest';
import { CURRENCY, OrderCancelled, OrderConfirmed, OrderPlaced } from '@app/contracts';
import { decodeEnvelope, EventBusCore, EventPublisher } from '@nest-streams/event-bus';
import { AnalyticsModule } from '@app/analytics';
import { PaymentModule } from '@app/payment';
import { createTestPlatformApp } from '../../../test/support/platform-app';
import { testRedisClient, waitFor } from '../../../test/support/redis';
import { LoyaltyModule } from '@app/loyalty';

/** Payment, loyalty and analytics side by side in one process, as the all-in-one app runs them. */
describe('payment → loyalty, with analytics alongside (real Redis)', () => {
  let app: INestApplication;
  let namespace: string;
  let redis: Redis;

  beforeAll(async () => {
    redis = testRedisClient();
    ({ app, namespace } = await createTestPlatformApp([PaymentModule, LoyaltyModule, AnalyticsModule]));
  });
  afterAll(async () => {
    await app?.close();
    await redis.quit();
  });

  it('awards points for the charge the payment service made, takes them back after its refund, and each module keeps its own group and source', async () => {
    const orders = new EventPublisher(app.get(EventBusCore), 'order-service');
    const items = [{ sku: 'SKU-TEE', name: 'Organic T-shirt', unitPrice: 24, quantity: 2 }];
    const base = {
      orderId: 'ORD-FLOW',
      userId: 'u-flow',
      userEmail: 'flow@example.com',
      items,
      total: 48,
      currency: CURRENCY,
    };
    const server = app.getHttpServer();

    await orders.publish(new OrderPlaced({ ...base, placedAt: '2025-03-14T09:00:00.000Z' }));
    await waitFor('points for ORD-FLOW', async () => (await request(server).get('/loyalty/u-flow')).body.points === 48);
    await orders.publish(new OrderConfirmed({ ...base, paymentId: 'pay_x', confirmedAt: '2025-03-14T09:01:00.000Z' }));
    await orders.publish(
      new OrderCancelled({ ...base, reason: 'out-of-stock', detail: 'late', cancelledAt: '2025-03-14T09:02:00.000Z' }),
    );
    await waitFor('refund taken back', async () => (await request(server).get('/loyalty/u-flow')).body.points === 0);
    await waitFor(
      'analytics counted',
      async () => (await request(server).get('/analytics/summary')).body.ordersCancelled.total === 1,
    );

    const published = (await redis.xrange(`${namespace}:{payments}`, '-', '+')).map(([, f]) => decodeEnvelope(f));
    expect(published.map((e) => [e.type, e.source])).toEqual([
      ['PaymentSucceeded', 'payment-service'],
      ['PaymentRefunded', 'payment-service'],
    ]);
    const groups = (await redis.xinfo('GROUPS', `${namespace}:{orders}`)) as unknown[][];
    expect(groups.map((g) => g[1]).sort()).toEqual(['analytics', 'payment']);
    expect((await request(server).get('/payments/ORD-FLOW').expect(200)).body.status).toBe('refunded');
    const summary = (await request(server).get('/analytics/summary').expect(200)).body;
    expect(summary).toMatchObject({ ordersPlaced: 1, ordersConfirmed: 1, revenue: 48 });
    const docs = (await request(server).get('/docs-json').expect(200)).body;
    expect(Object.keys(docs.paths)).toEqual(
      expect.arrayContaining(['/payments/{orderId}', '/loyalty/{userId}', '/analytics/summary']),
    );
  });
});
