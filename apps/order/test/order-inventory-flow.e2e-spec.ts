import type { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import request from 'supertest';
import { InventoryModule } from '@app/inventory';
import { createTestPlatformApp } from '../../../test/support/platform-app';
import { testRedisClient, waitFor } from '../../../test/support/redis';
import { OrderModule } from '@app/order';
import { readEvents, xaddEvent } from '../../../test/support/streams';
import { paymentFailed, paymentSucceeded, PlacedOrder } from './order-events.fixture';

/** Order and inventory in one process, as the all-in-one app runs them; payment played by raw XADDs. */
describe('order + inventory in one app (real Redis)', () => {
  let redis: Redis;
  let app: INestApplication;
  let ns: string;

  beforeAll(async () => {
    redis = testRedisClient();
    ({ app, namespace: ns } = await createTestPlatformApp([OrderModule, InventoryModule]));
  });
  afterAll(async () => {
    await app.close();
    await redis.quit();
  });

  const http = () => request(app.getHttpServer());
  const status = async (orderId: string) => (await http().get(`/orders/${orderId}`).expect(200)).body.status as string;
  const place = async (sku: string): Promise<PlacedOrder> =>
    (
      await http()
        .post('/orders')
        .send({ userId: 'user-1', email: 'ada@example.com', items: [{ sku, quantity: 1 }] })
        .expect(201)
    ).body;

  it('the last unit: the first order is reserved and confirmed, the second is cancelled out-of-stock; a declined one gives its unit back', async () => {
    const first = await place('SKU-LTD');
    await waitFor('reserved', async () => (await http().get('/inventory/SKU-LTD').expect(200)).body.reserved === 1);
    await xaddEvent(redis, ns, paymentSucceeded(first));
    await waitFor('first confirmed', async () => (await status(first.orderId)) === 'Confirmed');

    const second = await place('SKU-LTD');
    await waitFor('second cancelled', async () => (await status(second.orderId)) === 'Cancelled');
    const view = (await http().get(`/orders/${second.orderId}`).expect(200)).body;
    expect(view.cancellation).toMatchObject({
      reason: 'out-of-stock',
      detail: 'out of stock: SKU-LTD (requested 1, available 0)',
    });
    expect(view.history.map((h: { type: string; source: string }) => `${h.type}@${h.source}`)).toEqual([
      'OrderPlaced@order-service',
      'InventoryReservationFailed@inventory-service',
    ]);

    const pen = (await http().get('/inventory/SKU-PEN').expect(200)).body;
    const declined = await place('SKU-PEN');
    await waitFor(
      'pen reserved',
      async () => (await http().get('/inventory/SKU-PEN').expect(200)).body.reserved === pen.reserved + 1,
    );
    await xaddEvent(redis, ns, paymentFailed(declined));
    await waitFor(
      'pen released',
      async () => (await readEvents(redis, ns, 'inventory', 'InventoryReleased')).length === 1,
    );
    expect((await http().get('/inventory/SKU-PEN').expect(200)).body).toEqual(pen);
    expect(await status(declined.orderId)).toBe('Cancelled');
    expect(await http().get('/inventory/SKU-LTD').expect(200)).toMatchObject({ body: { available: 0, reserved: 1 } });
  });
});
