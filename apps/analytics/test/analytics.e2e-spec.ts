import { groupCaughtUp } from '../../../test/support/streams';
import type { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import request from 'supertest';
import { CATALOGUE_SEED, CURRENCY, OrderCancelled, OrderConfirmed, OrderItem, OrderPlaced } from '@app/contracts';
import { EventBusCore, EventPublisher } from '@nest-streams/event-bus';
import { createTestPlatformApp } from '../../../test/support/platform-app';
import { testRedisClient, waitFor } from '../../../test/support/redis';
import { AnalyticsModule } from '@app/analytics';

function items(lines: Record<string, number>): OrderItem[] {
  return Object.entries(lines).map(([sku, quantity]) => {
    const { name, unitPrice } = CATALOGUE_SEED.find((c) => c.sku === sku)!;
    return { sku, name, unitPrice, quantity };
  });
}

/** The facts of one order, all with the same business data whichever copy carries them. */
function order(orderId: string, lines: Record<string, number>) {
  const its = items(lines);
  const base = {
    orderId,
    userId: `u-${orderId}`,
    userEmail: `${orderId.toLowerCase()}@example.com`,
    items: its,
    currency: CURRENCY,
    total: its.reduce((s, i) => s + i.unitPrice * i.quantity, 0),
  };
  return {
    placed: (placedAt: string) => new OrderPlaced({ ...base, placedAt }),
    confirmed: (confirmedAt: string) => new OrderConfirmed({ ...base, paymentId: `pay_${orderId}`, confirmedAt }),
    cancelled: (reason: OrderCancelled['reason'], cancelledAt: string) =>
      new OrderCancelled({ ...base, reason, detail: reason, cancelledAt }),
  };
}

/** The analytics service as other services see it: order events in, GET /analytics/summary out. */
describe('analytics service (real Redis)', () => {
  let app: INestApplication;
  let namespace: string;
  let redis: Redis;
  let orders: EventPublisher;

  const summary = async () => (await request(app.getHttpServer()).get('/analytics/summary').expect(200)).body;

  /** Every entry of the orders stream handled and acknowledged by the analytics group. */
  async function drained(): Promise<void> {
    await waitFor('analytics group drained', () => groupCaughtUp(redis, namespace, 'orders', 'analytics'));
  }

  beforeAll(() => {
    redis = testRedisClient();
  });
  beforeEach(async () => {
    ({ app, namespace } = await createTestPlatformApp([AnalyticsModule]));
    orders = new EventPublisher(app.get(EventBusCore), 'order-service');
  });
  afterEach(async () => {
    await app?.close();
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('answers an empty summary before any event', async () => {
    expect(await summary()).toEqual({
      ordersPlaced: 0,
      ordersConfirmed: 0,
      ordersCancelled: { total: 0, byReason: { 'payment-declined': 0, 'out-of-stock': 0 } },
      revenue: 0,
      currency: CURRENCY,
      topSkus: [],
      daily: [],
    });
  });

  it('counts each fact once per order across duplicates with the same and with new event ids, per UTC day', async () => {
    const a = order('ORD-A', { 'SKU-MUG': 2, 'SKU-TEE': 1 }); // 49
    const b = order('ORD-B', { 'SKU-PEN': 1, 'SKU-BAG': 2 }); // 64.8
    const c = order('ORD-C', { 'SKU-LTD': 1 });
    const d = order('ORD-D', { 'SKU-CAP': 3 });
    const e = order('ORD-E', { 'SKU-BAG': 3, 'SKU-MUG': 1 }); // 42.2

    const aPlaced = await orders.publish(a.placed('2025-03-14T09:00:00.000Z'));
    await orders.publish(b.placed('2025-03-15T00:30:00+02:00')); // 22:30 on the 14th in UTC
    await orders.publish(c.placed('2025-03-14T10:00:00.000Z'));
    await orders.publish(d.placed('2025-03-14T11:00:00.000Z'));
    await orders.publish(a.confirmed('2025-03-14T09:05:00.000Z'));
    await orders.publish(c.cancelled('payment-declined', '2025-03-14T10:01:00.000Z'));
    await orders.publish(d.cancelled('out-of-stock', '2025-03-15T07:00:00.000Z'));
    await orders.publish(e.placed('2025-03-15T08:00:00.000Z'));
    const eConfirmed = await orders.publish(e.confirmed('2025-03-15T08:01:00.000Z'));
    await orders.publish(b.confirmed('2025-03-15T08:30:00.000Z'));
    // Redeliveries (same id) and replays / dedupe misses (new ids, same business data).
    await orders.publish(a.placed('2025-03-14T09:00:00.000Z'), { id: aPlaced.envelope.id });
    await orders.publish(a.placed('2025-03-14T09:00:00.000Z'));
    await orders.publish(a.confirmed('2025-03-14T09:05:00.000Z'));
    await orders.publish(e.confirmed('2025-03-15T08:01:00.000Z'), { id: eConfirmed.envelope.id });
    await orders.publish(b.confirmed('2025-03-15T08:30:00.000Z'));
    await orders.publish(c.cancelled('payment-declined', '2025-03-14T10:01:00.000Z'));
    await orders.publish(d.cancelled('out-of-stock', '2025-03-15T07:00:00.000Z'));
    await drained();

    expect(await summary()).toEqual({
      ordersPlaced: 5,
      ordersConfirmed: 3,
      ordersCancelled: { total: 2, byReason: { 'payment-declined': 1, 'out-of-stock': 1 } },
      revenue: 156,
      currency: CURRENCY,
      topSkus: [
        { sku: 'SKU-BAG', quantity: 5 },
        { sku: 'SKU-MUG', quantity: 3 },
        { sku: 'SKU-PEN', quantity: 1 },
        { sku: 'SKU-TEE', quantity: 1 },
      ],
      daily: [
        { date: '2025-03-14', placed: 4, confirmed: 1, cancelled: 1, revenue: 49 },
        { date: '2025-03-15', placed: 1, confirmed: 2, cancelled: 1, revenue: 107 },
      ],
    });
  });

  it('keeps counting facts that arrive after a summary was read', async () => {
    const f = order('ORD-F', { 'SKU-TEE': 2 });
    await orders.publish(f.placed('2025-03-16T12:00:00.000Z'));
    await waitFor('ORD-F counted', async () => (await summary()).ordersPlaced === 1);
    await orders.publish(f.confirmed('2025-03-16T12:01:00.000Z'));
    await waitFor('ORD-F confirmed', async () => (await summary()).ordersConfirmed === 1);
    const body = await summary();
    expect(body.revenue).toBe(48);
    expect(body.daily).toEqual([{ date: '2025-03-16', placed: 1, confirmed: 1, cancelled: 0, revenue: 48 }]);
  });
});
