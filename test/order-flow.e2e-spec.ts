import type { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import request from 'supertest';
import { encodeEnvelope, EventEnvelope } from '@nest-streams/event-bus';
import { AnalyticsModule } from '@app/analytics';
import { EmailModule } from '@app/email';
import { InventoryModule } from '@app/inventory';
import { LoyaltyModule } from '@app/loyalty';
import { OrderModule } from '@app/order';
import { PaymentModule } from '@app/payment';
import { createTestPlatformApp } from './support/platform-app';
import { deadLetterCount, streamLength, testRedisClient, waitFor } from './support/redis';
import { groupCaughtUp, readEvents, xaddFields } from './support/streams';

const GROUPS: Record<string, string[]> = {
  orders: ['inventory', 'payment', 'analytics', 'email'],
  inventory: ['order'],
  payments: ['order', 'loyalty'],
};

/**
 * The whole order flow in one process, as `npm start` runs it: every service its own consumer
 * group, talking only through events (and BullMQ for the email command). Driven through HTTP,
 * on the run's Redis (every test topology).
 */
describe('order flow across the services (one process, real Redis)', () => {
  let app: INestApplication;
  let ns: string;
  let redis: Redis;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    ({ app, namespace: ns } = await createTestPlatformApp(
      [OrderModule, InventoryModule, PaymentModule, EmailModule, LoyaltyModule, AnalyticsModule],
      { env: { EMAIL_RETRY_DELAY_MS: '50' } },
    ));
    redis = testRedisClient();
  });
  afterAll(async () => {
    await app?.close();
    await redis?.quit();
  });

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

  async function place(userId: string, items: Array<{ sku: string; quantity: number }>): Promise<string> {
    const res = await http()
      .post('/orders')
      .send({ userId, email: `${userId}@example.com`, items })
      .expect(201);
    return res.body.orderId as string;
  }

  async function finalStatus(orderId: string): Promise<Record<string, unknown>> {
    let body: Record<string, unknown> = {};
    await waitFor(
      `order ${orderId} final`,
      async () => {
        body = (await http().get(`/orders/${orderId}`)).body;
        return body.status === 'Confirmed' || body.status === 'Cancelled';
      },
      15_000,
    );
    return body;
  }

  const stock = async (sku: string) =>
    (await http().get(`/inventory/${sku}`).expect(200)).body as { available: number; reserved: number };
  const mails = async (orderId: string) =>
    (
      (await http().get('/emails').expect(200)).body as Array<{ orderId: string; template: string; subject: string }>
    ).filter((m) => m.orderId === orderId);
  const points = async (userId: string) =>
    ((await http().get(`/loyalty/${userId}`).expect(200)).body as { points: number }).points;

  it('happy path: confirmed, stock reduced, one confirmation mail, points added, analytics counts it', async () => {
    const before = await stock('SKU-MUG');
    const orderId = await place('ada', [
      { sku: 'SKU-MUG', quantity: 2 },
      { sku: 'SKU-BAG', quantity: 1 },
    ]);
    const order = await finalStatus(orderId);
    expect(order.status).toBe('Confirmed');
    expect((order.history as Array<{ type: string }>).map((h) => h.type)).toEqual(
      expect.arrayContaining(['OrderPlaced', 'InventoryReserved', 'PaymentSucceeded']),
    );
    // The status turns Confirmed in the saga's script; OrderConfirmed follows in the handler's commit.
    const confirmations = async () =>
      (await readEvents(redis, ns, 'orders', 'OrderConfirmed')).filter(
        (e) => (e.data as { orderId: string }).orderId === orderId,
      );
    await waitFor('OrderConfirmed published', async () => (await confirmations()).length > 0);
    expect(await confirmations()).toHaveLength(1);
    expect((await stock('SKU-MUG')).available).toBe(before.available - 2);
    await waitFor('confirmation mail', async () => (await mails(orderId)).length === 1);
    expect((await mails(orderId))[0].template).toBe('order-confirmed');
    expect(await points('ada')).toBe(Math.floor(2 * 12.5 + 9.9));
    await settled();
    const summary = (await http().get('/analytics/summary').expect(200)).body;
    expect(summary.ordersConfirmed).toBeGreaterThanOrEqual(1);
    expect(summary.topSkus).toEqual(expect.arrayContaining([{ sku: 'SKU-MUG', quantity: 2 }]));
  });

  it('declined payment: cancelled, stock restored, no points, a cancellation mail', async () => {
    const before = await stock('SKU-CAP');
    const orderId = await place('declined-bob', [{ sku: 'SKU-CAP', quantity: 1 }]);
    const order = await finalStatus(orderId);
    expect(order.status).toBe('Cancelled');
    expect((order.cancellation as { reason: string }).reason).toBe('payment-declined');
    await settled();
    expect((await stock('SKU-CAP')).available).toBe(before.available);
    expect(await points('declined-bob')).toBe(0);
    await waitFor('cancellation mail', async () => (await mails(orderId)).length === 1);
    expect((await mails(orderId))[0].template).toBe('order-cancelled');
  });

  it('out of stock after the payment went through: cancelled, the charge refunded and the points taken back', async () => {
    const first = await place('cy', [{ sku: 'SKU-LTD', quantity: 1 }]);
    expect((await finalStatus(first)).status).toBe('Confirmed');
    const second = await place('dee', [{ sku: 'SKU-LTD', quantity: 1 }]);
    const order = await finalStatus(second);
    expect(order.status).toBe('Cancelled');
    expect((order.cancellation as { reason: string }).reason).toBe('out-of-stock');
    await settled();
    const payment = (await http().get(`/payments/${second}`).expect(200)).body;
    expect(payment.status).toBe('refunded');
    expect(await points('dee')).toBe(0);
    expect(
      (await readEvents(redis, ns, 'payments', 'PaymentRefunded')).filter(
        (e) => (e.data as { orderId: string }).orderId === second,
      ),
    ).toHaveLength(1);
    await waitFor('cancellation mail', async () => (await mails(second)).length === 1);
  });

  it('replaying OrderPlaced and PaymentSucceeded into every group (same ids and new ids) charges, reserves, mails and awards nothing twice', async () => {
    const orderId = await place('eve', [{ sku: 'SKU-TEE', quantity: 1 }]);
    expect((await finalStatus(orderId)).status).toBe('Confirmed');
    await settled();
    const stockBefore = await stock('SKU-TEE');
    const pointsBefore = await points('eve');
    const summaryBefore = (await http().get('/analytics/summary').expect(200)).body;
    const copies: Array<EventEnvelope<unknown> & { stream: string }> = [];
    for (const [stream, type] of [
      ['orders', 'OrderPlaced'],
      ['payments', 'PaymentSucceeded'],
      ['orders', 'OrderConfirmed'],
    ] as const) {
      const original = (await readEvents(redis, ns, stream, type)).find(
        (e) => (e.data as { orderId: string }).orderId === orderId,
      )!;
      copies.push({ ...original, stream }, { ...original, id: `${original.id}-replayed`, stream });
    }
    // Tried: the same envelopes re-appended (a redelivery) and copies under new event ids (a replay).
    for (const { stream, ...envelope } of copies) await xaddFields(redis, ns, stream, encodeEnvelope(envelope));
    await settled();
    await new Promise((r) => setTimeout(r, 300));
    expect(await stock('SKU-TEE')).toEqual(stockBefore);
    expect(await points('eve')).toBe(pointsBefore);
    expect(await mails(orderId)).toHaveLength(1);
    const payment = (await http().get(`/payments/${orderId}`).expect(200)).body;
    expect(payment.status).toBe('charged');
    expect(
      (await readEvents(redis, ns, 'orders', 'OrderConfirmed'))
        .filter((e) => (e.data as { orderId: string }).orderId === orderId)
        .map((e) => e.id),
    ).toEqual([`${orderId}:confirmed`, `${orderId}:confirmed`, `${orderId}:confirmed-replayed`]);
    const summary = (await http().get('/analytics/summary').expect(200)).body;
    expect(summary.ordersPlaced).toBe(summaryBefore.ordersPlaced);
    expect(summary.revenue).toBe(summaryBefore.revenue);
    const deadLetters = await Promise.all(Object.keys(GROUPS).map((s) => deadLetterCount(redis, ns, s)));
    expect(deadLetters).toEqual([0, 0, 0]);
  });

  it('refuses bad requests with a 400 naming the problem, and publishes nothing', async () => {
    const before = await streamLength(redis, ns, 'orders');
    const cases: Array<[object | string, RegExp]> = [
      [{ userId: 'x', email: 'x@example.com' }, /items/],
      [{ userId: 'x', email: 'x@example.com', items: [{ sku: 'SKU-MUG', quantity: -1 }] }, /quantity/],
      [{ userId: 'x', email: 'x@example.com', items: [{ sku: 'SKU-NOPE', quantity: 1 }] }, /SKU-NOPE/],
      ['{"userId": "x", "items": [', /JSON|Unexpected|Expected/i],
    ];
    for (const [body, problem] of cases) {
      const res = await http()
        .post('/orders')
        .set('content-type', 'application/json')
        .send(typeof body === 'string' ? body : JSON.stringify(body));
      expect([res.status, JSON.stringify(res.body.message)]).toEqual([400, expect.stringMatching(problem)]);
    }
    expect(await streamLength(redis, ns, 'orders')).toBe(before);
  });
});
