import type { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import request from 'supertest';
import { createTestPlatformApp } from '../../../test/support/platform-app';
import { testRedisClient, waitFor } from '../../../test/support/redis';
import { OrderConfirmed } from '@app/contracts';
import { OrderModule } from '@app/order';
import { abortTransactions, eventOf } from '../../../test/support/aborted-transactions';
import { groupCaughtUp, RawEvent, readEvents, xaddEvent } from '../../../test/support/streams';
import {
  inventoryReserved,
  paymentFailed,
  paymentSucceeded,
  PlacedOrder,
  reservationFailed,
} from './order-events.fixture';

interface OrderView extends PlacedOrder {
  status: string;
  placedAt: string;
  paymentId?: string;
  confirmedAt?: string;
  cancellation?: { reason: string; detail: string; cancelledAt: string };
  items: Array<{ sku: string; name: string; unitPrice: number; quantity: number }>;
  history: Array<{ type: string; eventId: string; time: string; source: string }>;
}

/** The order service through HTTP and its streams, with inventory and payment played by raw XADDs. */
describe('order service (real Redis)', () => {
  let redis: Redis;
  let app: INestApplication;
  let ns: string;

  beforeAll(async () => {
    redis = testRedisClient();
    ({ app, namespace: ns } = await createTestPlatformApp([OrderModule]));
  });
  afterEach(async () => {
    expect(await redis.xlen(`${ns}:{inventory}:dlq`)).toBe(0);
    expect(await redis.xlen(`${ns}:{payments}:dlq`)).toBe(0);
  });
  afterAll(async () => {
    await app.close();
    await redis.quit();
  });

  const place = async (
    items = [
      { sku: 'SKU-MUG', quantity: 2 },
      { sku: 'SKU-PEN', quantity: 1 },
    ],
  ): Promise<OrderView> =>
    (
      await request(app.getHttpServer())
        .post('/orders')
        .send({ userId: 'user-1', email: 'ada@example.com', items })
        .expect(201)
    ).body as OrderView;
  const view = async (orderId: string): Promise<OrderView> =>
    (await request(app.getHttpServer()).get(`/orders/${orderId}`).expect(200)).body as OrderView;
  const orderEvents = async (type: string, orderId: string) =>
    (await readEvents<{ orderId: string }>(redis, ns, 'orders', type)).filter((e) => e.data.orderId === orderId);
  const send = (event: RawEvent) => xaddEvent(redis, ns, event);
  const settled = async () =>
    waitFor(
      'the order group read and acknowledged everything',
      async () =>
        (await groupCaughtUp(redis, ns, 'inventory', 'order')) && (await groupCaughtUp(redis, ns, 'payments', 'order')),
    );

  it('POST /orders answers 201 with a Pending order and publishes exactly one fat OrderPlaced', async () => {
    const order = await place();
    expect(order).toMatchObject({
      orderId: expect.stringMatching(/^ORD-/),
      status: 'Pending',
      userId: 'user-1',
      email: 'ada@example.com',
      total: 70,
      currency: 'EUR',
      items: [
        { sku: 'SKU-MUG', name: 'Enamel mug', unitPrice: 12.5, quantity: 2 },
        { sku: 'SKU-PEN', name: 'Fountain pen', unitPrice: 45, quantity: 1 },
      ],
    });
    const placed = await orderEvents('OrderPlaced', order.orderId);
    expect(placed).toHaveLength(1);
    expect(placed[0]).toMatchObject({ source: 'order-service', subject: order.orderId });
    expect(placed[0].data).toEqual({
      orderId: order.orderId,
      userId: 'user-1',
      userEmail: 'ada@example.com',
      items: order.items,
      total: 70,
      currency: 'EUR',
      placedAt: order.placedAt,
      discountCode: null,
    });
    const stored = await view(order.orderId);
    expect(stored).toMatchObject({ status: 'Pending', total: 70 });
    expect(stored.history).toEqual([
      { type: 'OrderPlaced', eventId: placed[0].id, time: order.placedAt, source: 'order-service' },
    ]);
  });

  it.each([
    ['InventoryReserved, then PaymentSucceeded', [inventoryReserved, paymentSucceeded]],
    ['PaymentSucceeded, then InventoryReserved', [paymentSucceeded, inventoryReserved]],
  ])('%s: Confirmed once both arrived, with exactly one OrderConfirmed', async (_, steps) => {
    const order = await place();
    const [first, second] = steps.map((step) => step(order));
    const firstSent = await send(first);
    await waitFor('first event in history', async () => (await view(order.orderId)).history.length === 2);
    expect((await view(order.orderId)).status).toBe('Pending');
    expect(await orderEvents('OrderConfirmed', order.orderId)).toHaveLength(0);
    const secondSent = await send(second);

    await waitFor('Confirmed', async () => (await view(order.orderId)).status === 'Confirmed');
    await waitFor('OrderConfirmed', async () => (await orderEvents('OrderConfirmed', order.orderId)).length > 0);
    await settled();
    const confirmed = await orderEvents('OrderConfirmed', order.orderId);
    expect(confirmed).toHaveLength(1);
    expect(confirmed[0]).toMatchObject({
      id: `${order.orderId}:confirmed`,
      source: 'order-service',
      causationid: secondSent.id,
    });
    expect(confirmed[0].data).toMatchObject({
      orderId: order.orderId,
      userEmail: 'ada@example.com',
      total: 70,
      paymentId: `PAY-${order.orderId}`,
    });
    const done = await view(order.orderId);
    expect(done).toMatchObject({ paymentId: `PAY-${order.orderId}`, confirmedAt: expect.any(String) });
    expect(done.cancellation).toBeUndefined();
    expect(done.history.map((h) => [h.type, h.eventId, h.source])).toEqual([
      ['OrderPlaced', expect.any(String), 'order-service'],
      [firstSent.type, firstSent.id, firstSent.source],
      [secondSent.type, secondSent.id, secondSent.source],
    ]);
  });

  it('PaymentFailed cancels the order as payment-declined and publishes OrderCancelled once', async () => {
    const order = await place();
    await send(inventoryReserved(order));
    await send(paymentFailed(order));
    await waitFor('Cancelled', async () => (await view(order.orderId)).status === 'Cancelled');
    await waitFor('OrderCancelled', async () => (await orderEvents('OrderCancelled', order.orderId)).length > 0);
    await settled();
    const cancelled = await orderEvents('OrderCancelled', order.orderId);
    expect(cancelled).toHaveLength(1);
    expect(cancelled[0]).toMatchObject({ id: `${order.orderId}:cancelled` });
    expect(cancelled[0].data).toMatchObject({
      reason: 'payment-declined',
      detail: 'payment declined: card declined',
      total: 70,
    });
    expect((await view(order.orderId)).cancellation).toMatchObject({
      reason: 'payment-declined',
      detail: 'payment declined: card declined',
    });
    expect(await orderEvents('OrderConfirmed', order.orderId)).toHaveLength(0);
  });

  it('InventoryReservationFailed after PaymentSucceeded cancels it as out-of-stock, naming the sku', async () => {
    const order = await place([{ sku: 'SKU-LTD', quantity: 1 }]);
    await send(paymentSucceeded(order));
    await waitFor('payment recorded', async () => (await view(order.orderId)).paymentId !== undefined);
    await send(reservationFailed(order, 'SKU-LTD'));
    await waitFor('Cancelled', async () => (await view(order.orderId)).status === 'Cancelled');
    await waitFor('OrderCancelled', async () => (await orderEvents('OrderCancelled', order.orderId)).length > 0);
    await settled();
    const [cancelled, ...more] = await orderEvents('OrderCancelled', order.orderId);
    expect(more).toHaveLength(0);
    expect(cancelled.data).toMatchObject({
      reason: 'out-of-stock',
      detail: 'out of stock: SKU-LTD (requested 1, available 0)',
    });
    expect((await view(order.orderId)).cancellation?.reason).toBe('out-of-stock');
  });

  it('redelivered saga events, with the same id or a new one, leave exactly one OrderConfirmed', async () => {
    const order = await place();
    const reserved = await send(inventoryReserved(order));
    const paid = await send(paymentSucceeded(order));
    await waitFor('OrderConfirmed', async () => (await orderEvents('OrderConfirmed', order.orderId)).length > 0);
    const copies = [
      { stream: 'inventory', type: reserved.type, data: reserved.data, id: reserved.id, source: reserved.source },
      { stream: 'payments', type: paid.type, data: paid.data, id: paid.id, source: paid.source },
      { stream: 'inventory', type: reserved.type, data: reserved.data, source: reserved.source },
      { stream: 'payments', type: paid.type, data: paid.data, source: paid.source },
    ];
    const sent = [];
    for (const copy of copies) sent.push(await send(copy));
    await settled();
    expect(await orderEvents('OrderConfirmed', order.orderId)).toHaveLength(1);
    const after = await view(order.orderId);
    expect(after.status).toBe('Confirmed');
    // Same-id copies are dropped by the bus; new-id copies are late facts, recorded once each.
    expect(after.history.map((h) => h.eventId).slice(1)).toEqual([reserved.id, paid.id, sent[2].id, sent[3].id]);
  });

  it('an outcome whose commit Redis refused is published by the retry of the event that decided it, once', async () => {
    // Tried: Redis discarding the saga's commit (outcome + announced mark + XACK) twice.
    const aborted = abortTransactions((events) => events.some((e) => eventOf(e) instanceof OrderConfirmed), 2);
    try {
      const order = await place();
      await send(inventoryReserved(order));
      await send(paymentSucceeded(order));
      await waitFor('OrderConfirmed', async () => (await orderEvents('OrderConfirmed', order.orderId)).length > 0);
      await settled();
      expect(aborted.refused()).toBe(2);
      expect(await orderEvents('OrderConfirmed', order.orderId)).toHaveLength(1);
      expect((await view(order.orderId)).history).toHaveLength(3);
    } finally {
      aborted.restore();
    }
  });

  it('a late event for a cancelled order is only recorded in its history', async () => {
    const order = await place();
    await send(paymentFailed(order));
    await waitFor('OrderCancelled', async () => (await orderEvents('OrderCancelled', order.orderId)).length > 0);
    const late = await send(inventoryReserved(order));
    await waitFor('late event recorded', async () =>
      (await view(order.orderId)).history.some((h) => h.eventId === late.id),
    );
    await settled();
    expect((await view(order.orderId)).status).toBe('Cancelled');
    expect(await orderEvents('OrderCancelled', order.orderId)).toHaveLength(1);
    expect(await orderEvents('OrderConfirmed', order.orderId)).toHaveLength(0);
  });
});
