import type { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import request from 'supertest';
import { OrderPlaced } from '@app/contracts';
import { createTestPlatformApp } from '../../../test/support/platform-app';
import { testRedisClient } from '../../../test/support/redis';
import { OrderModule } from '@app/order';
import { readEvents } from '../../../test/support/streams';
import { abortTransactions, eventOf } from '../../../test/support/aborted-transactions';

const good = { userId: 'user-1', email: 'ada@example.com', items: [{ sku: 'SKU-MUG', quantity: 1 }] };
const line = (patch: object) => ({ ...good, items: [{ sku: 'SKU-MUG', quantity: 1, ...patch }] });

/** What `/orders` refuses, and how it answers when it cannot publish. */
describe('order service requests (real Redis)', () => {
  let redis: Redis;
  let app: INestApplication;
  let ns: string;

  beforeAll(async () => {
    redis = testRedisClient();
    ({ app, namespace: ns } = await createTestPlatformApp([OrderModule]));
  });
  afterAll(async () => {
    await app.close();
    await redis.quit();
  });

  describe('bad requests answer 400 naming the field, and publish nothing', () => {
    it.each([
      ['missing items', { userId: 'user-1', email: 'ada@example.com' }, 'items must be an array'],
      ['empty items', { ...good, items: [] }, 'items must contain at least 1 elements'],
      ['zero quantity', line({ quantity: 0 }), 'items.0.quantity must not be less than 1'],
      ['negative quantity', line({ quantity: -3 }), 'items.0.quantity must not be less than 1'],
      ['fractional quantity', line({ quantity: 1.5 }), 'items.0.quantity must be an integer number'],
      ['quantity over the limit', line({ quantity: 101 }), 'items.0.quantity must not be greater than 100'],
      ['quantity as a string', line({ quantity: '2' }), 'items.0.quantity must be an integer number'],
      ['empty sku', line({ sku: '' }), 'items.0.sku should not be empty'],
      [
        'unknown sku',
        {
          ...good,
          items: [
            { sku: 'SKU-MUG', quantity: 1 },
            { sku: 'SKU-NOPE', quantity: 1 },
          ],
        },
        'items.1.sku: unknown sku "SKU-NOPE"',
      ],
      [
        'the same sku twice',
        {
          ...good,
          items: [
            { sku: 'SKU-MUG', quantity: 1 },
            { sku: 'SKU-MUG', quantity: 1 },
          ],
        },
        'items.1.sku: sku "SKU-MUG" is already on line 0',
      ],
      ['bad email', { ...good, email: 'not-an-email' }, 'email must be an email'],
      ['missing userId', { email: good.email, items: good.items }, 'userId should not be empty'],
      ['an unknown field', { ...good, coupon: 'FREE' }, 'property coupon should not exist'],
      ['a client-side price on a line', line({ unitPrice: 0.01 }), 'items.0.property unitPrice should not exist'],
    ])('%s', async (_, body, message) => {
      const res = await request(app.getHttpServer()).post('/orders').send(body).expect(400);
      expect(res.body.message).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
    });

    it('a malformed JSON body', async () => {
      const res = await request(app.getHttpServer())
        .post('/orders')
        .set('Content-Type', 'application/json')
        .send('{"userId": "user-1", "email": ')
        .expect(400);
      expect(res.body.message).toMatch(/JSON/);
    });

    it('(after all of the above) the orders stream and the order index are still empty', async () => {
      expect(await redis.xlen(`${ns}:{orders}`)).toBe(0);
      expect(await redis.zcard(`${ns}:svc:order:orders`)).toBe(0);
    });
  });

  it('GET /orders/:id answers 404 for an unknown order', async () => {
    const res = await request(app.getHttpServer()).get('/orders/ORD-NOPE-000000').expect(404);
    expect(res.body.message).toBe('order "ORD-NOPE-000000" does not exist');
    await request(app.getHttpServer()).get('/orders/not:an:id').expect(404);
  });

  it('answers 503 when Redis refuses the write, and stores neither the order nor its OrderPlaced', async () => {
    // Tried: Redis discarding the order's transaction (EXECABORT): the order record, its index
    // entry, its history and the OrderPlaced go in one MULTI, so none of them may remain.
    const aborted = abortTransactions((events) => events.some((e) => eventOf(e) instanceof OrderPlaced));
    const before = { orders: await redis.zcard(`${ns}:svc:order:orders`), events: await redis.xlen(`${ns}:{orders}`) };
    try {
      const res = await request(app.getHttpServer()).post('/orders').send(good).expect(503);
      expect(aborted.refused()).toBe(1);
      expect(res.body.message).toMatch(/^could not place order ORD-\S+: the store is unavailable/);
      expect(res.body.message).toMatch(/stored together with its OrderPlaced event or not at all/);
      const orderId = /order (ORD-\S+):/.exec(res.body.message)![1];
      await request(app.getHttpServer()).get(`/orders/${orderId}`).expect(404);
      expect(await redis.zcard(`${ns}:svc:order:orders`)).toBe(before.orders);
      expect(await redis.exists(`${ns}:svc:order:order:${orderId}`, `${ns}:svc:order:order:${orderId}:history`)).toBe(
        0,
      );
      expect(await redis.xlen(`${ns}:{orders}`)).toBe(before.events);
    } finally {
      aborted.restore();
    }
    // The same request once Redis takes writes again: placed, with its event.
    const placed = await request(app.getHttpServer()).post('/orders').send(good).expect(201);
    const events = await readEvents<{ orderId: string }>(redis, ns, 'orders');
    expect(events.filter((e) => e.data.orderId === placed.body.orderId)).toHaveLength(1);
  });

  it('GET /orders lists the most recent orders first, paged', async () => {
    const placed: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await request(app.getHttpServer()).post('/orders').send(good).expect(201);
      placed.push(res.body.orderId);
      await new Promise((r) => setTimeout(r, 5));
    }
    const page = await request(app.getHttpServer()).get('/orders?limit=2&offset=0').expect(200);
    expect(page.body).toMatchObject({ limit: 2, offset: 0, total: 4 });
    expect(page.body.orders.map((o: { orderId: string }) => o.orderId)).toEqual([placed[2], placed[1]]);
    expect(page.body.orders[0]).toMatchObject({ status: 'Pending', userId: 'user-1', total: 12.5, currency: 'EUR' });
    const next = await request(app.getHttpServer()).get('/orders?limit=2&offset=2').expect(200);
    expect(next.body.orders.map((o: { orderId: string }) => o.orderId)[0]).toBe(placed[0]);
    const bad = await request(app.getHttpServer()).get('/orders?limit=0').expect(400);
    expect(bad.body.message).toEqual(expect.arrayContaining([expect.stringContaining('limit')]));
  });
});
