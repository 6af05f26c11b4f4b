import type { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import request from 'supertest';
import { CURRENCY, OrderCancelled, OrderPlaced, PaymentRefunded, PaymentSucceeded } from '@app/contracts';
import { EventPublisher } from '@nest-streams/event-bus';
import { AnalyticsModule } from '@app/analytics';
import { EmailModule } from '@app/email';
import { InventoryModule } from '@app/inventory';
import { LoyaltyModule } from '@app/loyalty';
import { OrderModule, newOrderId } from '@app/order';
import { FakeGatewayCounts, FakePaymentGateway, PaymentModule } from '@app/payment';
import { createTestPlatformApp } from './support/platform-app';
import { testRedisClient, waitFor } from './support/redis';
import { groupCaughtUp, readEvents } from './support/streams';

const GROUPS: Record<string, string[]> = {
  orders: ['inventory', 'payment', 'analytics', 'email'],
  inventory: ['order'],
  payments: ['order', 'loyalty'],
};

/** Which groups handle OrderCancelled (all of them must have handled it before OrderPlaced is sent). */
const CANCEL_HANDLERS = ['inventory', 'payment', 'analytics', 'email'];

interface Stock {
  available: number;
  reserved: number;
}

/**
 * Events of one order arriving out of order, as they do when a dead instance's entry is claimed
 * and handled after later entries: the shop's services in one process (as `npm start` runs them),
 * the order's events published with the bus's own publisher, one at a time, each handled by every
 * group before the next is sent.
 */
describe('an order cancelled before it was placed, and one cancelled after it was charged', () => {
  let app: INestApplication;
  let ns: string;
  let redis: Redis;
  let publisher: EventPublisher;
  let gateway: FakePaymentGateway;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    ({ app, namespace: ns } = await createTestPlatformApp(
      [OrderModule, InventoryModule, PaymentModule, EmailModule, LoyaltyModule, AnalyticsModule],
      {
        env: { EMAIL_RETRY_DELAY_MS: '50' },
      },
    ));
    publisher = app.get(EventPublisher);
    gateway = app.get(FakePaymentGateway);
    redis = testRedisClient();
  });
  afterAll(async () => {
    await app?.close();
    await redis?.quit();
  });

  /** Every group has read and acknowledged every entry of its streams (stream by stream, in causal order). */
  async function settled(): Promise<void> {
    await waitFor(
      'every group caught up',
      async () => {
        for (const [stream, groups] of Object.entries(GROUPS)) {
          for (const group of groups) if (!(await groupCaughtUp(redis, ns, stream, group))) return false;
        }
        return true;
      },
      15_000,
    );
  }

  const stock = async (sku: string): Promise<Stock> => {
    const { available, reserved } = (await http().get(`/inventory/${sku}`).expect(200)).body as Stock;
    return { available, reserved };
  };
  const loyalty = async (userId: string) =>
    (await http().get(`/loyalty/${userId}`).expect(200)).body as {
      points: number;
      history: Array<{ orderId: string; points: number; reason: string }>;
    };
  const mails = async (orderId: string) =>
    ((await http().get('/emails').expect(200)).body as Array<{ orderId: string; template: string }>).filter(
      (m) => m.orderId === orderId,
    );
  const summary = async () =>
    (await http().get('/analytics/summary').expect(200)).body as {
      ordersPlaced: number;
      ordersConfirmed: number;
      ordersCancelled: { total: number };
      revenue: number;
    };
  const eventsOf = async (stream: string, orderId: string) =>
    (await readEvents<{ orderId: string }>(redis, ns, stream))
      .filter((e) => e.data.orderId === orderId)
      .map((e) => e.type);
  const deadLetters = async () =>
    Promise.all(Object.keys(GROUPS).map(async (s) => [s, await redis.xlen(`${ns}:{${s}}:dlq`)]));

  /** An order of `lines` (sku, unit price, quantity) for `userId`, and its cancellation. */
  function orderEvents(
    userId: string,
    lines: Array<[string, string, number, number]>,
  ): { placed: OrderPlaced; cancelled: OrderCancelled } {
    const orderId = newOrderId();
    const items = lines.map(([sku, name, unitPrice, quantity]) => ({ sku, name, unitPrice, quantity }));
    const total = Math.round(items.reduce((sum, i) => sum + i.unitPrice * i.quantity, 0) * 100) / 100;
    const common = { orderId, userId, userEmail: `${userId}@example.com`, items, total, currency: CURRENCY };
    const placedAt = new Date(Date.now() - 60_000).toISOString();
    return {
      placed: new OrderPlaced({ ...common, placedAt, discountCode: null }),
      cancelled: new OrderCancelled({
        ...common,
        reason: 'out-of-stock',
        detail: 'out of stock: SKU-PEN (requested 1, available 0)',
        cancelledAt: new Date().toISOString(),
      }),
    };
  }

  it('OrderCancelled handled before its OrderPlaced: no charge, no points, nothing reserved', async () => {
    const user = `ooo-${Date.now().toString(36)}`;
    const { placed, cancelled } = orderEvents(user, [
      ['SKU-PEN', 'Fountain pen', 45, 1],
      ['SKU-BAG', 'Canvas tote bag', 9.9, 2],
    ]);
    const { orderId } = placed;
    const pensBefore = await stock('SKU-PEN');
    const bagsBefore = await stock('SKU-BAG');
    const gatewayBefore: FakeGatewayCounts = await gateway.counts();
    const analyticsBefore = await summary();

    // The cancellation first: every group that handles it has handled it...
    await publisher.publish(cancelled);
    await waitFor('OrderCancelled handled by every group', async () => {
      for (const group of CANCEL_HANDLERS) if (!(await groupCaughtUp(redis, ns, 'orders', group))) return false;
      return true;
    });
    // ...then the placement, late.
    await publisher.publish(placed);
    await settled();

    // Payment: not charged, nothing recorded, nothing announced.
    expect(await gateway.counts()).toEqual(gatewayBefore);
    await http().get(`/payments/${orderId}`).expect(404);
    expect(await eventsOf('payments', orderId)).toEqual([]);
    // Loyalty: no points.
    expect(await loyalty(user)).toEqual({ userId: user, points: 0, history: [] });
    // Inventory: nothing reserved, nothing released, nothing announced.
    expect({ pens: await stock('SKU-PEN'), bags: await stock('SKU-BAG') }).toEqual({
      pens: pensBefore,
      bags: bagsBefore,
    });
    expect(await eventsOf('inventory', orderId)).toEqual([]);
    // Email: the cancellation mail only. Analytics: placed and cancelled, no revenue.
    await waitFor('cancellation mail', async () => (await mails(orderId)).length > 0);
    expect((await mails(orderId)).map((m) => m.template)).toEqual(['order-cancelled']);
    const analytics = await summary();
    expect({
      placed: analytics.ordersPlaced - analyticsBefore.ordersPlaced,
      confirmed: analytics.ordersConfirmed - analyticsBefore.ordersConfirmed,
      cancelled: analytics.ordersCancelled.total - analyticsBefore.ordersCancelled.total,
      revenue: analytics.revenue - analyticsBefore.revenue,
    }).toEqual({ placed: 1, confirmed: 0, cancelled: 1, revenue: 0 });
    expect(await deadLetters()).toEqual([
      ['orders', 0],
      ['inventory', 0],
      ['payments', 0],
    ]);
  });

  it('OrderCancelled after the charge: the charge is refunded once, the points taken back, the stock given back', async () => {
    const user = `charged-${Date.now().toString(36)}`;
    const { placed, cancelled } = orderEvents(user, [['SKU-CAP', 'Cotton cap', 18, 2]]);
    const { orderId } = placed;
    const capsBefore = await stock('SKU-CAP');
    const gatewayBefore = await gateway.counts();

    await publisher.publish(placed);
    await settled();
    expect((await http().get(`/payments/${orderId}`).expect(200)).body.status).toBe('charged');
    expect((await loyalty(user)).points).toBe(36);
    expect(await stock('SKU-CAP')).toEqual({ available: capsBefore.available - 2, reserved: capsBefore.reserved + 2 });

    await publisher.publish(cancelled);
    await settled();

    const payment = (await http().get(`/payments/${orderId}`).expect(200)).body;
    expect(payment).toMatchObject({ status: 'refunded', amount: 36, refundedAt: expect.any(String) });
    const gatewayAfter = await gateway.counts();
    expect({
      charges: gatewayAfter.charges - gatewayBefore.charges,
      refunds: gatewayAfter.refunds - gatewayBefore.refunds,
    }).toEqual({ charges: 1, refunds: 1 });
    expect(await eventsOf('payments', orderId)).toEqual(['PaymentSucceeded', 'PaymentRefunded']);
    expect(await loyalty(user)).toEqual({
      userId: user,
      points: 0,
      history: [
        expect.objectContaining({ orderId, points: 36, reason: 'payment' }),
        expect.objectContaining({ orderId, points: -36, reason: 'refund' }),
      ],
    });
    expect(await stock('SKU-CAP')).toEqual(capsBefore);
    expect(await eventsOf('inventory', orderId)).toEqual(['InventoryReserved', 'InventoryReleased']);
    expect(await deadLetters()).toEqual([
      ['orders', 0],
      ['inventory', 0],
      ['payments', 0],
    ]);
  });

  it('PaymentRefunded handled by loyalty before its PaymentSucceeded: no points', async () => {
    const user = `refund-first-${Date.now().toString(36)}`;
    const orderId = newOrderId();
    const payment = {
      orderId,
      userId: user,
      userEmail: `${user}@example.com`,
      paymentId: 'pay_0123456789abcdef',
      amount: 54,
      currency: CURRENCY,
    };

    await publisher.publish(new PaymentRefunded({ ...payment, refundedAt: new Date().toISOString() }));
    await waitFor('PaymentRefunded handled by loyalty', () => groupCaughtUp(redis, ns, 'payments', 'loyalty'));
    await publisher.publish(
      new PaymentSucceeded({ ...payment, chargedAt: new Date(Date.now() - 60_000).toISOString() }),
    );
    await settled();

    expect(await loyalty(user)).toEqual({ userId: user, points: 0, history: [] });
    expect(await deadLetters()).toEqual([
      ['orders', 0],
      ['inventory', 0],
      ['payments', 0],
    ]);
  });
});
