import type { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import request from 'supertest';
import { createTestPlatformApp } from '../../../test/support/platform-app';
import { testRedisClient, waitFor } from '../../../test/support/redis';
import { groupCaughtUp, RawEvent, readEvents, xaddEvent } from '../../../test/support/streams';
import { InventoryModule } from '@app/inventory';
import { orderCancelled, orderPlaced } from './inventory-events.fixture';

interface Level {
  sku: string;
  name: string;
  available: number;
  reserved: number;
}

/** The inventory service through HTTP and its streams, with the order service played by raw XADDs. */
describe('inventory service (real Redis)', () => {
  let redis: Redis;
  let app: INestApplication;
  let ns: string;
  let seq = 0;

  beforeAll(async () => {
    redis = testRedisClient();
    ({ app, namespace: ns } = await createTestPlatformApp([InventoryModule]));
  });
  afterEach(async () => {
    expect(await redis.xlen(`${ns}:{orders}:dlq`)).toBe(0);
  });
  afterAll(async () => {
    await app.close();
    await redis.quit();
  });

  const newOrderId = () => `ORD-TEST-${++seq}`;
  const level = async (sku: string): Promise<Level> =>
    (await request(app.getHttpServer()).get(`/inventory/${sku}`).expect(200)).body as Level;
  const send = (event: RawEvent) => xaddEvent(redis, ns, event);
  const outcomes = async (type: string, orderId: string) =>
    (await readEvents<{ orderId: string }>(redis, ns, 'inventory', type)).filter((e) => e.data.orderId === orderId);
  const settled = () =>
    waitFor('the inventory group read and acknowledged every order event', () =>
      groupCaughtUp(redis, ns, 'orders', 'inventory'),
    );

  it('seeds stock from the catalogue and serves it on GET /inventory and /inventory/:sku', async () => {
    const res = await request(app.getHttpServer()).get('/inventory').expect(200);
    expect(res.body).toHaveLength(6);
    expect(res.body).toContainEqual({ sku: 'SKU-LTD', name: 'Limited print (signed)', available: 1, reserved: 0 });
    expect(await level('SKU-MUG')).toEqual({ sku: 'SKU-MUG', name: 'Enamel mug', available: 100, reserved: 0 });
    const missing = await request(app.getHttpServer()).get('/inventory/SKU-NOPE').expect(404);
    expect(missing.body.message).toBe('sku "SKU-NOPE" is not in the inventory');
  });

  it('OrderPlaced reserves every line: stock goes down and one InventoryReserved goes out', async () => {
    const orderId = newOrderId();
    const [mug, tee] = [await level('SKU-MUG'), await level('SKU-TEE')];
    const placed = await send(
      orderPlaced(orderId, [
        { sku: 'SKU-MUG', quantity: 2 },
        { sku: 'SKU-TEE', quantity: 3 },
      ]),
    );
    await waitFor('InventoryReserved', async () => (await outcomes('InventoryReserved', orderId)).length > 0);
    const [reserved, ...more] = await outcomes('InventoryReserved', orderId);
    expect(more).toHaveLength(0);
    expect(reserved).toMatchObject({
      id: `${orderId}:reserved`,
      source: 'inventory-service',
      subject: orderId,
      causationid: placed.id,
    });
    expect(reserved.data).toMatchObject({
      orderId,
      lines: [
        { sku: 'SKU-MUG', quantity: 2 },
        { sku: 'SKU-TEE', quantity: 3 },
      ],
    });
    expect(await level('SKU-MUG')).toMatchObject({ available: mug.available - 2, reserved: mug.reserved + 2 });
    expect(await level('SKU-TEE')).toMatchObject({ available: tee.available - 3, reserved: tee.reserved + 3 });
  });

  it('an order with one unavailable line reserves nothing and the failure names the short skus', async () => {
    const orderId = newOrderId();
    const [mug, pen] = [await level('SKU-MUG'), await level('SKU-PEN')];
    const lines = [
      { sku: 'SKU-MUG', quantity: 1 },
      { sku: 'SKU-PEN', quantity: pen.available + 1 },
      { sku: 'SKU-GHOST', quantity: 1 },
    ];
    await send(orderPlaced(orderId, lines));
    await waitFor(
      'InventoryReservationFailed',
      async () => (await outcomes('InventoryReservationFailed', orderId)).length > 0,
    );
    await settled();
    const [failed] = await outcomes('InventoryReservationFailed', orderId);
    expect(failed.id).toBe(`${orderId}:reservation-failed`);
    expect(failed.data).toMatchObject({
      short: [
        { sku: 'SKU-PEN', requested: pen.available + 1, available: pen.available },
        { sku: 'SKU-GHOST', requested: 1, available: 0 },
      ],
    });
    expect(await outcomes('InventoryReserved', orderId)).toHaveLength(0);
    expect(await level('SKU-MUG')).toEqual(mug);
    expect(await level('SKU-PEN')).toEqual(pen);
    // Cancelling it gives nothing back: nothing was reserved.
    await send(orderCancelled(orderId, lines));
    await settled();
    expect(await outcomes('InventoryReleased', orderId)).toHaveLength(0);
    expect(await level('SKU-MUG')).toEqual(mug);
  });

  it('OrderPlaced delivered again (same event id, and a new one) reserves once', async () => {
    const orderId = newOrderId();
    const bag = await level('SKU-BAG');
    const first = await send(orderPlaced(orderId, [{ sku: 'SKU-BAG', quantity: 5 }]));
    await send({ stream: 'orders', type: first.type, data: first.data, id: first.id, source: first.source });
    await send({ stream: 'orders', type: first.type, data: first.data, source: first.source });
    await waitFor('InventoryReserved', async () => (await outcomes('InventoryReserved', orderId)).length > 0);
    await settled();
    expect(await level('SKU-BAG')).toEqual({ ...bag, available: bag.available - 5, reserved: bag.reserved + 5 });
    const announced = await outcomes('InventoryReserved', orderId);
    // The new-id copy re-announces the same outcome under the same id (downstream dedupe drops it).
    expect(new Set(announced.map((e) => e.id))).toEqual(new Set([`${orderId}:reserved`]));
    expect(new Set(announced.map((e) => JSON.stringify(e.data))).size).toBe(1);
  });

  it('OrderCancelled releases what the order reserved exactly once, even delivered twice', async () => {
    const orderId = newOrderId();
    const cap = await level('SKU-CAP');
    const lines = [{ sku: 'SKU-CAP', quantity: 4 }];
    await send(orderPlaced(orderId, lines));
    await waitFor('reserved', async () => (await level('SKU-CAP')).reserved === cap.reserved + 4);
    const cancel = await send(orderCancelled(orderId, lines));
    await send({ stream: 'orders', type: cancel.type, data: cancel.data, source: cancel.source });
    await send({ stream: 'orders', type: cancel.type, data: cancel.data, id: cancel.id, source: cancel.source });
    await waitFor('InventoryReleased', async () => (await outcomes('InventoryReleased', orderId)).length > 0);
    await settled();
    expect(await level('SKU-CAP')).toEqual(cap);
    const released = await outcomes('InventoryReleased', orderId);
    expect(new Set(released.map((e) => e.id))).toEqual(new Set([`${orderId}:released`]));
    expect(released[0]).toMatchObject({ causationid: cancel.id, data: { orderId, lines } });
  });

  it('an OrderCancelled that overtakes its OrderPlaced releases nothing, and the late OrderPlaced reserves nothing', async () => {
    const orderId = newOrderId();
    const mug = await level('SKU-MUG');
    const lines = [{ sku: 'SKU-MUG', quantity: 1 }];
    await send(orderCancelled(orderId, lines));
    await settled();
    await send(orderPlaced(orderId, lines));
    await settled();
    expect(await level('SKU-MUG')).toEqual(mug);
    for (const type of ['InventoryReserved', 'InventoryReservationFailed', 'InventoryReleased'])
      expect(await outcomes(type, orderId)).toHaveLength(0);
  });

  it('a restart does not reseed: stock keeps what was reserved', async () => {
    const before = await level('SKU-TEE');
    expect(before.available).toBeLessThan(50);
    const restarted = await createTestPlatformApp([InventoryModule], { namespace: ns });
    try {
      const after = await request(restarted.app.getHttpServer()).get('/inventory/SKU-TEE').expect(200);
      expect(after.body).toEqual(before);
    } finally {
      await restarted.app.close();
    }
  });
});
