import { groupCaughtUp } from '../../../test/support/streams';
import { Injectable, Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import request from 'supertest';
import { CURRENCY, OrderCancelled, OrderPlaced } from '@app/contracts';
import { decodeEnvelope, EventBusCore, EventEnvelope, EventPublisher } from '@nest-streams/event-bus';
import {
  FakePaymentGateway,
  PaymentModule,
  type ChargeRequest,
  type ChargeResult,
  type PaymentGateway,
} from '@app/payment';
import { createTestPlatformApp } from '../../../test/support/platform-app';
import { testNamespace, testRedisClient, waitFor } from '../../../test/support/redis';
import { fakePaymentId } from '../src/gateway/fake-decline-rule';

const PLACED_AT = '2025-03-14T09:00:00.000Z';

function placed(orderId: string, userId: string, total: number): OrderPlaced {
  return new OrderPlaced({
    orderId,
    userId,
    userEmail: `${userId}@example.com`,
    total,
    currency: CURRENCY,
    placedAt: PLACED_AT,
    items: [{ sku: 'SKU-MUG', name: 'Enamel mug', unitPrice: total, quantity: 1 }],
  });
}

function cancelled(order: OrderPlaced, reason: OrderCancelled['reason']): OrderCancelled {
  const { placedAt: _placedAt, ...rest } = order;
  return new OrderCancelled({ ...rest, reason, detail: reason, cancelledAt: '2025-03-14T09:05:00.000Z' });
}

/** Charges the second charge() call: the first one times out (the bus retries the handler). */
@Injectable()
class TimingOutGateway implements PaymentGateway {
  static calls: ChargeRequest[] = [];

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    TimingOutGateway.calls.push(request);
    if (TimingOutGateway.calls.length === 1) throw new Error('gateway timed out');
    return { ok: true, paymentId: `tg_${request.idempotencyKey}` };
  }

  async refund(): Promise<void> {}
}

@Module({ imports: [PaymentModule.withGateway(TimingOutGateway)] })
class TimingOutPaymentModule {}

/** The payment service as other services see it: OrderPlaced/OrderCancelled in, payment events and GET /payments out. */
describe('payment service (real Redis)', () => {
  let app: INestApplication;
  let namespace: string;
  let redis: Redis;
  let orders: EventPublisher;

  async function boot(module: typeof PaymentModule | typeof TimingOutPaymentModule = PaymentModule): Promise<void> {
    ({ app, namespace } = await createTestPlatformApp([module], { namespace: testNamespace('payment') }));
    orders = new EventPublisher(app.get(EventBusCore), 'order-service');
  }

  const gateway = (): FakePaymentGateway => app.get(FakePaymentGateway);

  async function paymentEvents(type?: string): Promise<EventEnvelope[]> {
    const entries = await redis.xrange(`${namespace}:{payments}`, '-', '+');
    return entries.map(([, fields]) => decodeEnvelope(fields)).filter((e) => !type || e.type === type);
  }

  /** Every entry of the orders stream handled and acknowledged by the payment group. */
  async function drained(): Promise<void> {
    await waitFor('payment group drained', () => groupCaughtUp(redis, namespace, 'orders', 'payment'));
  }

  async function placeAndSettle(order: OrderPlaced, type: string): Promise<EventEnvelope> {
    await orders.publish(order);
    await waitFor(`${type} of ${order.orderId}`, async () =>
      (await paymentEvents(type)).some((e) => e.subject === order.orderId),
    );
    return (await paymentEvents(type)).find((e) => e.subject === order.orderId)!;
  }

  beforeAll(() => {
    redis = testRedisClient();
  });
  afterEach(async () => {
    await app?.close();
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('charges an approved order once and announces PaymentSucceeded', async () => {
    await boot();
    const order = placed('ORD-OK', 'u-alice', 37.4);
    const published = await orders.publish(order);
    await waitFor('PaymentSucceeded', async () => (await paymentEvents('PaymentSucceeded')).length > 0);
    await drained();

    const events = await paymentEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      id: 'ORD-OK:payment-succeeded',
      type: 'PaymentSucceeded',
      source: 'payment-service',
      subject: 'ORD-OK',
      causationid: published.envelope.id,
      data: {
        orderId: 'ORD-OK',
        userId: 'u-alice',
        userEmail: 'u-alice@example.com',
        paymentId: fakePaymentId('ORD-OK'),
        amount: 37.4,
        currency: CURRENCY,
      },
    });
    expect(await gateway().counts()).toEqual({ chargeCalls: 1, charges: 1, declines: 0, refundCalls: 0, refunds: 0 });

    const res = await request(app.getHttpServer()).get('/payments/ORD-OK').expect(200);
    expect(res.body).toMatchObject({
      orderId: 'ORD-OK',
      status: 'charged',
      paymentId: fakePaymentId('ORD-OK'),
      amount: 37.4,
      currency: CURRENCY,
      userId: 'u-alice',
    });
    expect(res.body.chargedAt).toBe((events[0].data as { chargedAt: string }).chargedAt);
  });

  it('declines amounts above 1000 and users whose id starts with "declined", with the reason', async () => {
    await boot();
    const tooMuch = await placeAndSettle(placed('ORD-BIG', 'u-bob', 1000.5), 'PaymentFailed');
    const badCard = await placeAndSettle(placed('ORD-CARD', 'declined-carol', 20), 'PaymentFailed');
    const justAtLimit = await placeAndSettle(placed('ORD-LIMIT', 'u-dave', 1000), 'PaymentSucceeded');
    await drained();

    expect(tooMuch).toMatchObject({
      id: 'ORD-BIG:payment-failed',
      data: { orderId: 'ORD-BIG', amount: 1000.5, reason: 'amount-over-limit' },
    });
    expect(badCard).toMatchObject({
      id: 'ORD-CARD:payment-failed',
      data: { orderId: 'ORD-CARD', userId: 'declined-carol', reason: 'card-declined' },
    });
    expect(justAtLimit.data).toMatchObject({ amount: 1000 });
    expect((await paymentEvents()).map((e) => e.id).sort()).toEqual([
      'ORD-BIG:payment-failed',
      'ORD-CARD:payment-failed',
      'ORD-LIMIT:payment-succeeded',
    ]);
    expect(await gateway().counts()).toMatchObject({ chargeCalls: 3, charges: 1, declines: 2 });

    const record = await request(app.getHttpServer()).get('/payments/ORD-CARD').expect(200);
    expect(record.body).toMatchObject({ status: 'declined', reason: 'card-declined', amount: 20 });
    expect(record.body.paymentId).toBeUndefined();
  });

  it('charges once when OrderPlaced arrives three times (same id twice, then a new id)', async () => {
    await boot();
    const order = placed('ORD-DUP', 'u-erin', 55);
    const first = await orders.publish(order);
    await orders.publish(order, { id: first.envelope.id });
    await orders.publish(order);
    await waitFor('PaymentSucceeded', async () => (await paymentEvents('PaymentSucceeded')).length > 0);
    await drained();

    expect(await gateway().counts()).toMatchObject({ chargeCalls: 1, charges: 1 });
    const succeeded = await paymentEvents('PaymentSucceeded');
    expect(new Set(succeeded.map((e) => e.id))).toEqual(new Set(['ORD-DUP:payment-succeeded']));
    // NOTE: the new-id copy re-announces the recorded outcome: same event id, same payment id and time.
    expect(new Set(succeeded.map((e) => JSON.stringify(e.data))).size).toBe(1);
    expect(await paymentEvents('PaymentFailed')).toEqual([]);
  });

  it('refunds a charged order once when it is cancelled, however often OrderCancelled arrives', async () => {
    await boot();
    const order = placed('ORD-RF', 'u-frank', 80);
    await placeAndSettle(order, 'PaymentSucceeded');
    const cancel = cancelled(order, 'out-of-stock');
    const first = await orders.publish(cancel);
    await waitFor('PaymentRefunded', async () => (await paymentEvents('PaymentRefunded')).length > 0);
    await drained();

    expect(await gateway().counts()).toMatchObject({ chargeCalls: 1, charges: 1, refundCalls: 1, refunds: 1 });
    const [refunded] = await paymentEvents('PaymentRefunded');
    expect(refunded).toMatchObject({
      id: 'ORD-RF:refunded',
      data: { orderId: 'ORD-RF', paymentId: fakePaymentId('ORD-RF'), amount: 80, userId: 'u-frank' },
    });
    const record = await request(app.getHttpServer()).get('/payments/ORD-RF').expect(200);
    expect(record.body).toMatchObject({ status: 'refunded', paymentId: fakePaymentId('ORD-RF'), amount: 80 });

    await orders.publish(cancel, { id: first.envelope.id });
    await orders.publish(cancel);
    await orders.publish(order);
    await drained();
    expect(await gateway().counts()).toMatchObject({ chargeCalls: 1, charges: 1, refundCalls: 1, refunds: 1 });
    expect(new Set((await paymentEvents('PaymentRefunded')).map((e) => e.id))).toEqual(new Set(['ORD-RF:refunded']));
    expect(new Set((await paymentEvents('PaymentSucceeded')).map((e) => e.id))).toEqual(
      new Set(['ORD-RF:payment-succeeded']),
    );
    expect((await request(app.getHttpServer()).get('/payments/ORD-RF').expect(200)).body.status).toBe('refunded');
  });

  it('refunds nothing for a cancelled order that was declined or never charged, and never charges it later', async () => {
    await boot();
    const declined = placed('ORD-DECL', 'declined-gina', 30);
    await placeAndSettle(declined, 'PaymentFailed');
    await orders.publish(cancelled(declined, 'payment-declined'));
    const unseen = placed('ORD-UNSEEN', 'u-hank', 40);
    await orders.publish(cancelled(unseen, 'out-of-stock'));
    await drained();
    await orders.publish(unseen);
    await drained();

    expect(await gateway().counts()).toEqual({ chargeCalls: 1, charges: 0, declines: 1, refundCalls: 0, refunds: 0 });
    expect((await paymentEvents()).map((e) => e.id)).toEqual(['ORD-DECL:payment-failed']);
    expect((await request(app.getHttpServer()).get('/payments/ORD-DECL').expect(200)).body.status).toBe('declined');
    await request(app.getHttpServer()).get('/payments/ORD-UNSEEN').expect(404);
  });

  it('answers 404 naming the order for an order it has not seen', async () => {
    await boot();
    const res = await request(app.getHttpServer()).get('/payments/ORD-NOPE').expect(404);
    expect(res.body.message).toBe('no payment for order ORD-NOPE');
  });

  it('uses the gateway given to withGateway, and a gateway timeout is retried into one charge', async () => {
    TimingOutGateway.calls = [];
    await boot(TimingOutPaymentModule);
    const succeeded = await placeAndSettle(placed('ORD-TO', 'u-ivy', 12), 'PaymentSucceeded');
    await drained();

    expect(TimingOutGateway.calls.map((c) => c.idempotencyKey)).toEqual(['ORD-TO', 'ORD-TO']);
    expect(succeeded).toMatchObject({ id: 'ORD-TO:payment-succeeded', data: { paymentId: 'tg_ORD-TO' } });
    expect(await paymentEvents()).toHaveLength(1);
    expect(await gateway().counts()).toMatchObject({ chargeCalls: 0 });
  });
});
