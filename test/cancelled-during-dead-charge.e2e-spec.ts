import { Injectable, Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type Redis from 'ioredis';
import request from 'supertest';
import { CURRENCY, OrderCancelled, OrderPlaced } from '@app/contracts';
import { EventBusModule, EventPublisher } from '@nest-streams/event-bus';
import { LoyaltyModule } from '@app/loyalty';
import { newOrderId } from '@app/order';
import {
  FakePaymentGateway,
  PaymentModule,
  type ChargeRequest,
  type ChargeResult,
  type PaymentGateway,
} from '@app/payment';
import { testNamespace, testRedisClient, testRedisUrl, waitFor } from './support/redis';
import { groupCaughtUp, xaddEvent } from './support/streams';

/** The gateway of the instance that dies: the charge call never comes back. */
@Injectable()
class StalledGateway implements PaymentGateway {
  static calls: ChargeRequest[] = [];

  charge(request: ChargeRequest): Promise<ChargeResult> {
    StalledGateway.calls.push(request);
    return new Promise<ChargeResult>(() => undefined);
  }

  async refund(): Promise<void> {}
}

// NOTE: the claim timeout is shortened (30 s by default) so the dead instance's entry is claimed
// within the test; the retry policy is the library's default (5 attempts from 200 ms, ~3 s).
const CONSUMER = { blockMs: 100, claimTimeoutMs: 1_000, claimIntervalMs: 200, shutdownTimeoutMs: 200 };

/**
 * A claimed entry of a dead instance handled after a later entry of the same order: payment
 * instance A takes OrderPlaced, records the charge intent (`pending`) and dies in the gateway call;
 * the order is cancelled meanwhile (e.g. out of stock) and instance B handles the OrderCancelled
 * first, then claims A's OrderPlaced. The order must end with no money kept and no points.
 */
describe('an order cancelled while the instance charging it was dead', () => {
  let redis: Redis;
  let ns: string;
  const apps: INestApplication[] = [];

  async function start(
    consumerName: string,
    payment: typeof PaymentModule | ReturnType<typeof PaymentModule.withGateway>,
    extra: Array<typeof LoyaltyModule> = [],
  ): Promise<INestApplication> {
    @Module({
      imports: [
        EventBusModule.forRoot({
          redis: testRedisUrl(),
          namespace: ns,
          consumerName,
          source: 'test',
          isGlobal: true,
          consumer: CONSUMER,
        }),
        payment,
        ...extra,
      ],
    })
    class InstanceModule {}
    const app = await NestFactory.create(InstanceModule, { logger: ['error'] });
    await app.init();
    apps.push(app);
    return app;
  }

  beforeAll(() => {
    redis = testRedisClient();
    ns = testNamespace('dead-charge');
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await redis?.quit();
  });

  it('keeps no charge and awards no points', async () => {
    const orderId = newOrderId();
    const userId = `dead-charge-${Date.now().toString(36)}`;
    const items = [{ sku: 'SKU-TEE', name: 'Organic T-shirt', unitPrice: 24, quantity: 2 }];
    const common = { orderId, userId, userEmail: `${userId}@example.com`, items, total: 48, currency: CURRENCY };
    const recordKey = `${ns}:svc:payment:payment:${orderId}`;

    // Instance A takes the OrderPlaced, records the intent to charge, and hangs in the gateway...
    const a = await start('payment-a', PaymentModule.withGateway(StalledGateway));
    await a
      .get(EventPublisher)
      .publish(new OrderPlaced({ ...common, placedAt: new Date().toISOString(), discountCode: null }));
    await waitFor(
      'instance A charging',
      async () => StalledGateway.calls.length === 1 && (await redis.hget(recordKey, 'status')) === 'pending',
    );
    // ...and dies: its entry stays pending, its lease is no longer renewed.
    await a.close();
    expect(Number(((await redis.xpending(`${ns}:{orders}`, 'payment')) as [number])[0])).toBe(1);

    // The order is cancelled meanwhile (XADD as the order service would write it); instance B (with
    // loyalty) comes up, reads the OrderCancelled first, then claims A's OrderPlaced once it is idle.
    const cancelled = new OrderCancelled({
      ...common,
      reason: 'out-of-stock',
      detail: 'out of stock: SKU-TEE (requested 2, available 0)',
      cancelledAt: new Date().toISOString(),
    });
    await xaddEvent(redis, ns, {
      stream: 'orders',
      type: 'OrderCancelled',
      data: { ...cancelled },
      source: 'order-service',
    });
    const b = await start('payment-b', PaymentModule, [LoyaltyModule]);
    await waitFor(
      'payment and loyalty settled',
      async () =>
        (await groupCaughtUp(redis, ns, 'orders', 'payment')) &&
        (await groupCaughtUp(redis, ns, 'payments', 'loyalty')),
      20_000,
    );

    const counts = await b.get(FakePaymentGateway).counts();
    const payment = (await request(b.getHttpServer()).get(`/payments/${orderId}`)).body as { status?: string };
    const loyalty = (await request(b.getHttpServer()).get(`/loyalty/${userId}`).expect(200)).body as { points: number };
    const deadLetters = (await redis.xrange(`${ns}:{orders}:dlq`, '-', '+')).map(
      ([, fields]) => fields[fields.indexOf('type') + 1],
    );
    expect({
      moneyKept: counts.charges - counts.refunds,
      paymentStatus: payment.status,
      points: loyalty.points,
      deadLetters,
    }).toEqual({
      moneyKept: 0,
      paymentStatus: expect.not.stringMatching(/^charged$/),
      points: 0,
      deadLetters: [],
    });
  });
});
