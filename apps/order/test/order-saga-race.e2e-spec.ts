import type { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import request from 'supertest';
import { encodeEnvelope } from '@nest-streams/event-bus';
import { createTestPlatformApp } from '../../../test/support/platform-app';
import { testRedisClient, waitFor } from '../../../test/support/redis';
import { OrderModule } from '@app/order';
import { groupCaughtUp, readEvents } from '../../../test/support/streams';
import { inventoryReserved, paymentSucceeded, PlacedOrder } from './order-events.fixture';

/**
 * Two order instances share the `order` group, so the two halves of one order's confirmation
 * can be handled at the same moment on different instances: the transition script must let
 * exactly one of them decide.
 */
describe('order saga on two instances (real Redis)', () => {
  let redis: Redis;
  const apps: INestApplication[] = [];

  beforeAll(() => {
    redis = testRedisClient();
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await redis.quit();
  });

  it('InventoryReserved and PaymentSucceeded racing on two instances confirm each order exactly once', async () => {
    const first = await createTestPlatformApp([OrderModule]);
    apps.push(first.app, (await createTestPlatformApp([OrderModule], { namespace: first.namespace })).app);
    const ns = first.namespace;
    const orders: PlacedOrder[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await request(first.app.getHttpServer())
        .post('/orders')
        .send({ userId: `user-${i}`, email: 'ada@example.com', items: [{ sku: 'SKU-BAG', quantity: 1 }] })
        .expect(201);
      orders.push(res.body as PlacedOrder);
    }

    // Both halves of every order in one round trip, so they are read in the same moment.
    const pipeline = redis.pipeline();
    for (const order of orders) {
      for (const event of [inventoryReserved(order), paymentSucceeded(order)]) {
        const envelope = {
          specversion: '1.0',
          id: `${event.type}-${order.orderId}`,
          type: event.type,
          version: 1,
          source: event.source!,
          time: new Date().toISOString(),
          datacontenttype: 'application/json',
          data: event.data,
          subject: order.orderId,
        };
        pipeline.xadd(`${ns}:{${event.stream}}`, '*', ...encodeEnvelope(envelope));
      }
    }
    await pipeline.exec();

    await waitFor(
      'every order confirmed',
      async () => (await readEvents(redis, ns, 'orders', 'OrderConfirmed')).length >= orders.length,
    );
    await waitFor(
      'both streams handled',
      async () =>
        (await groupCaughtUp(redis, ns, 'inventory', 'order')) && (await groupCaughtUp(redis, ns, 'payments', 'order')),
    );
    const confirmed = await readEvents<{ orderId: string }>(redis, ns, 'orders', 'OrderConfirmed');
    expect(confirmed.map((e) => e.data.orderId).sort()).toEqual(orders.map((o) => o.orderId).sort());
    for (const order of orders) {
      const res = await request(first.app.getHttpServer()).get(`/orders/${order.orderId}`).expect(200);
      expect(res.body.status).toBe('Confirmed');
      expect(res.body.history).toHaveLength(3);
    }
    expect(await redis.xlen(`${ns}:{inventory}:dlq`)).toBe(0);
    expect(await redis.xlen(`${ns}:{payments}:dlq`)).toBe(0);
  });
});
