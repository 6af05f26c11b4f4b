import type { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import request from 'supertest';
import { encodeEnvelope } from '@nest-streams/event-bus';
import { createTestPlatformApp } from '../../../test/support/platform-app';
import { testRedisClient, waitFor } from '../../../test/support/redis';
import { groupCaughtUp, readEvents } from '../../../test/support/streams';
import { InventoryModule } from '@app/inventory';
import { orderPlaced } from './inventory-events.fixture';

/** Two inventory instances share the `inventory` group; orders for the last unit race across them. */
describe('inventory on two instances (real Redis)', () => {
  let redis: Redis;
  const apps: INestApplication[] = [];

  beforeAll(() => {
    redis = testRedisClient();
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await redis.quit();
  });

  it('concurrent orders for the last unit of SKU-LTD: exactly one gets it', async () => {
    const first = await createTestPlatformApp([InventoryModule]);
    const ns = first.namespace;
    apps.push(first.app, (await createTestPlatformApp([InventoryModule], { namespace: ns })).app);
    const orderIds = Array.from({ length: 12 }, (_, i) => `ORD-LTD-${i}`);

    const pipeline = redis.pipeline();
    for (const orderId of orderIds) {
      const event = orderPlaced(orderId, [{ sku: 'SKU-LTD', quantity: 1 }], `placed-${orderId}`);
      const envelope = {
        specversion: '1.0',
        id: event.id!,
        type: event.type,
        version: 1,
        source: event.source!,
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
        data: event.data,
        subject: orderId,
      };
      pipeline.xadd(`${ns}:{orders}`, '*', ...encodeEnvelope(envelope));
    }
    await pipeline.exec();

    await waitFor(
      'an outcome for every order',
      async () => (await readEvents(redis, ns, 'inventory')).length >= orderIds.length,
    );
    await waitFor('every order handled', () => groupCaughtUp(redis, ns, 'orders', 'inventory'));
    const reserved = await readEvents<{ orderId: string }>(redis, ns, 'inventory', 'InventoryReserved');
    const failed = await readEvents<{ orderId: string; short: unknown[] }>(
      redis,
      ns,
      'inventory',
      'InventoryReservationFailed',
    );
    expect(reserved).toHaveLength(1);
    expect(failed).toHaveLength(orderIds.length - 1);
    for (const f of failed) expect(f.data.short).toEqual([{ sku: 'SKU-LTD', requested: 1, available: 0 }]);
    expect([...reserved, ...failed].map((e) => e.data.orderId).sort()).toEqual([...orderIds].sort());
    const ltd = await request(first.app.getHttpServer()).get('/inventory/SKU-LTD').expect(200);
    expect(ltd.body).toMatchObject({ available: 0, reserved: 1 });
    expect(await redis.xlen(`${ns}:{orders}:dlq`)).toBe(0);
  });
});
