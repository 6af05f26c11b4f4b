import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { IsNumber, IsOptional, IsString, Min } from 'class-validator';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import request from 'supertest';
import { OrderPlaced, OrderPlacedV1 } from '@app/contracts';
import {
  DeadLetterService,
  encodeEnvelope,
  EventBusCore,
  EventBusModule,
  EventContext,
  EventContract,
  EventPublisher,
  EventUpcaster,
  Subscribe,
  Upcaster,
} from '@nest-streams/event-bus';
import { AnalyticsModule } from '@app/analytics';
import { InventoryModule } from '@app/inventory';
import { OrderModule } from '@app/order';
import { PaymentModule } from '@app/payment';
import { createTestPlatformApp } from './support/platform-app';
import { testRedisClient, waitFor } from './support/redis';
import { groupCaughtUp, readEvents } from './support/streams';

interface Seen {
  payload: Record<string, unknown>;
  version: number;
  upcastFrom?: number;
  wire: unknown;
}

/** A service that subscribes to OrderPlaced, and one handler that still names the v1 class. */
@Injectable()
class OrderPlacedProbe {
  readonly newest = new Map<string, Seen>();
  readonly oldClass = new Map<string, Seen>();

  @Subscribe(OrderPlaced)
  onPlaced(order: OrderPlaced, ctx: EventContext): void {
    this.newest.set(order.orderId, {
      payload: { ...order },
      version: ctx.envelope.version,
      upcastFrom: ctx.upcastFrom,
      wire: ctx.envelope.data,
    });
  }

  @Subscribe(OrderPlacedV1, { group: 'probe-old-class' })
  onPlacedAsV1(order: OrderPlacedV1, ctx: EventContext): void {
    this.oldClass.set(order.orderId, {
      payload: { ...order },
      version: ctx.envelope.version,
      upcastFrom: ctx.upcastFrom,
      wire: ctx.envelope.data,
    });
  }
}

@Module({
  imports: [EventBusModule.forFeature({ group: 'probe', source: 'probe-service' })],
  providers: [OrderPlacedProbe],
})
class ProbeModule {}

const ORDER_GROUPS = ['inventory', 'payment', 'analytics', 'probe', 'probe-old-class'];

/** The entry an older producer writes: version 1, no discountCode. */
async function xadd(
  redis: Redis,
  ns: string,
  stream: string,
  type: string,
  version: number,
  data: object,
  source = 'order-service',
): Promise<string> {
  const id = randomUUID();
  const fields = encodeEnvelope({
    specversion: '1.0',
    id,
    type,
    version,
    source,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data,
    subject: (data as { orderId?: string }).orderId,
  });
  await redis.xadd(`${ns}:{${stream}}`, '*', ...fields);
  return id;
}

describe('OrderPlaced v2 with a v1 producer still running (the shop, real Redis)', () => {
  let app: INestApplication;
  let ns: string;
  let redis: Redis;
  let probe: OrderPlacedProbe;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    ({ app, namespace: ns } = await createTestPlatformApp([
      OrderModule,
      InventoryModule,
      PaymentModule,
      AnalyticsModule,
      ProbeModule,
    ]));
    redis = testRedisClient();
    probe = app.get(OrderPlacedProbe);
  });
  afterEach(async () => {
    expect(await redis.xlen(`${ns}:{orders}:dlq`)).toBe(0);
  });
  afterAll(async () => {
    await app?.close();
    await redis?.quit();
  });

  const fat = (orderId: string) => ({
    orderId,
    userId: 'user-v',
    userEmail: 'v@example.com',
    items: [{ sku: 'SKU-MUG', name: 'Enamel mug', unitPrice: 12.5, quantity: 2 }],
    total: 25,
    currency: 'EUR',
    placedAt: new Date().toISOString(),
  });
  const eventOf = async (stream: string, type: string, orderId: string) =>
    (await readEvents<Record<string, unknown>>(redis, ns, stream, type)).find((e) => e.data.orderId === orderId);
  const caughtUp = () =>
    waitFor('every group caught up on orders', async () => {
      for (const group of ORDER_GROUPS) if (!(await groupCaughtUp(redis, ns, 'orders', group))) return false;
      return true;
    });
  const summary = async () =>
    (await http().get('/analytics/summary').expect(200)).body as {
      ordersPlaced: number;
      topSkus: Array<{ sku: string; quantity: number }>;
    };
  const mug = async () =>
    (await http().get('/inventory/SKU-MUG').expect(200)).body as { available: number; reserved: number };

  it('a v1 entry (raw XADD) is reserved, charged and counted exactly like a v2 one', async () => {
    const [before, stockBefore] = [await summary(), await mug()];
    const [v1Order, v2Order] = [`ORD-VER-1-${randomUUID().slice(0, 6)}`, `ORD-VER-2-${randomUUID().slice(0, 6)}`];
    await xadd(redis, ns, 'orders', 'OrderPlaced', 1, fat(v1Order));
    await app.get(EventPublisher).publish(new OrderPlaced({ ...fat(v2Order), discountCode: 'SPRING10' }));

    for (const orderId of [v1Order, v2Order]) {
      await waitFor(
        `InventoryReserved ${orderId}`,
        async () => !!(await eventOf('inventory', 'InventoryReserved', orderId)),
      );
      await waitFor(
        `PaymentSucceeded ${orderId}`,
        async () => !!(await eventOf('payments', 'PaymentSucceeded', orderId)),
      );
    }
    await caughtUp();
    const same = (e: { data: Record<string, unknown> } | undefined, ...drop: string[]) =>
      Object.fromEntries(Object.entries(e!.data).filter(([k]) => !['orderId', ...drop].includes(k)));
    expect(same(await eventOf('inventory', 'InventoryReserved', v1Order), 'reservedAt')).toEqual(
      same(await eventOf('inventory', 'InventoryReserved', v2Order), 'reservedAt'),
    );
    expect(same(await eventOf('payments', 'PaymentSucceeded', v1Order), 'paymentId', 'chargedAt')).toEqual(
      same(await eventOf('payments', 'PaymentSucceeded', v2Order), 'paymentId', 'chargedAt'),
    );
    expect((await eventOf('payments', 'PaymentSucceeded', v1Order))!.data).toMatchObject({
      amount: 25,
      userEmail: 'v@example.com',
    });
    expect((await mug()).available).toBe(stockBefore.available - 4);
    await waitFor('analytics counted both', async () => (await summary()).ordersPlaced === before.ordersPlaced + 2);

    // Handlers see the newest shape; the envelope keeps what was on the wire.
    expect(probe.newest.get(v1Order)).toEqual({
      payload: { ...fat(v1Order), placedAt: expect.any(String), discountCode: null },
      version: 1,
      upcastFrom: 1,
      wire: expect.not.objectContaining({ discountCode: expect.anything() }),
    });
    expect(probe.newest.get(v1Order)!.wire).not.toHaveProperty('discountCode');
    expect(probe.newest.get(v2Order)).toEqual({
      payload: expect.objectContaining({ orderId: v2Order, discountCode: 'SPRING10' }),
      version: 2,
      upcastFrom: undefined,
      wire: expect.objectContaining({ discountCode: 'SPRING10' }),
    });
    // A handler that still names OrderPlacedV1 is bound to the type: it gets the newest version too.
    expect(probe.oldClass.get(v1Order)).toMatchObject({
      payload: { orderId: v1Order, discountCode: null },
      version: 1,
      upcastFrom: 1,
    });
    expect(probe.oldClass.get(v2Order)).toMatchObject({
      payload: { orderId: v2Order, discountCode: 'SPRING10' },
      version: 2,
    });
  });

  it('a producer still on the OrderPlacedV1 class publishes version 1 without discountCode; consumers see it upcast', async () => {
    const orderId = `ORD-VER-3-${randomUUID().slice(0, 6)}`;
    const legacy = new EventPublisher(app.get(EventBusCore), 'order-service');
    const published = await legacy.publish(new OrderPlacedV1(fat(orderId)));
    expect(published.envelope.version).toBe(1);
    const [[, fields]] = await redis.xrange(`${ns}:{orders}`, published.entryId, published.entryId);
    expect(fields[fields.indexOf('version') + 1]).toBe('1');
    expect(JSON.parse(fields[fields.indexOf('data') + 1])).not.toHaveProperty('discountCode');
    await waitFor('probe saw it', () => probe.newest.has(orderId));
    expect(probe.newest.get(orderId)).toMatchObject({ payload: { discountCode: null }, version: 1, upcastFrom: 1 });
    await waitFor(
      `PaymentSucceeded ${orderId}`,
      async () => !!(await eventOf('payments', 'PaymentSucceeded', orderId)),
    );
    await caughtUp();
  });

  it('POST /orders publishes OrderPlaced v2: the discountCode given, else null; the order is confirmed as before', async () => {
    const withCode = (
      await http()
        .post('/orders')
        .send({
          userId: 'user-d',
          email: 'd@example.com',
          items: [{ sku: 'SKU-BAG', quantity: 1 }],
          discountCode: 'SPRING10',
        })
        .expect(201)
    ).body as { orderId: string; discountCode?: string };
    const without = (
      await http()
        .post('/orders')
        .send({ userId: 'user-d', email: 'd@example.com', items: [{ sku: 'SKU-BAG', quantity: 1 }] })
        .expect(201)
    ).body as { orderId: string; discountCode?: string };
    expect(withCode.discountCode).toBe('SPRING10');
    expect(without).not.toHaveProperty('discountCode');
    const [a, b] = [
      await eventOf('orders', 'OrderPlaced', withCode.orderId),
      await eventOf('orders', 'OrderPlaced', without.orderId),
    ];
    expect([a!.version, a!.data.discountCode, b!.version, b!.data.discountCode]).toEqual([2, 'SPRING10', 2, null]);
    for (const { orderId } of [withCode, without]) {
      await waitFor(
        `order ${orderId} confirmed`,
        async () => (await http().get(`/orders/${orderId}`)).body.status === 'Confirmed',
      );
    }
    expect((await http().get(`/orders/${withCode.orderId}`)).body.discountCode).toBe('SPRING10');
    const bad = await http()
      .post('/orders')
      .send({ userId: 'user-d', email: 'd@example.com', items: [{ sku: 'SKU-BAG', quantity: 1 }], discountCode: '' })
      .expect(400);
    expect(JSON.stringify(bad.body.message)).toContain('discountCode');
    await caughtUp();
  });
});

// A test-only type with a gap: v1, v2, v3 registered, but only the v2 -> v3 upcaster.
@EventContract({ type: 'VersioningE2eParcelWeighed', version: 1, stream: 'parcels', subjectField: 'parcelId' })
class ParcelWeighedV1 {
  @IsString() parcelId!: string;
  @IsNumber() @Min(0) grams!: number;
}
@EventContract({ type: 'VersioningE2eParcelWeighed', version: 2, stream: 'parcels', subjectField: 'parcelId' })
class ParcelWeighedV2 {
  @IsString() parcelId!: string;
  @IsNumber() @Min(0) grams!: number;
  @IsOptional() @IsString() scale?: string | null;
}
@EventContract({ type: 'VersioningE2eParcelWeighed', version: 3, stream: 'parcels', subjectField: 'parcelId' })
class ParcelWeighed {
  @IsString() parcelId!: string;
  @IsNumber() @Min(0) grams!: number;
  @IsOptional() @IsString() scale?: string | null;
  @IsOptional() @IsString() station?: string | null;
}
@Upcaster(ParcelWeighedV2, ParcelWeighed)
export class ParcelWeighedV2ToV3 implements EventUpcaster<ParcelWeighedV2, ParcelWeighed> {
  upcast(v2: ParcelWeighedV2): ParcelWeighed {
    return { ...v2, station: 'unknown' };
  }
}

@Injectable()
class ParcelHandler {
  readonly seen: Seen[] = [];

  @Subscribe(ParcelWeighed)
  onWeighed(parcel: ParcelWeighed, ctx: EventContext): void {
    this.seen.push({
      payload: { ...parcel },
      version: ctx.envelope.version,
      upcastFrom: ctx.upcastFrom,
      wire: ctx.envelope.data,
    });
  }
}

@Module({ imports: [EventBusModule.forFeature({ group: 'parcels' })], providers: [ParcelHandler] })
class ParcelModule {}

describe('an entry whose version cannot reach the newest (real Redis)', () => {
  let app: INestApplication;
  let ns: string;
  let redis: Redis;
  let handler: ParcelHandler;

  beforeAll(async () => {
    ({ app, namespace: ns } = await createTestPlatformApp([ParcelModule]));
    redis = testRedisClient();
    handler = app.get(ParcelHandler);
  });
  afterAll(async () => {
    await app?.close();
    await redis?.quit();
  });

  const caughtUp = () => waitFor('parcels caught up', () => groupCaughtUp(redis, ns, 'parcels', 'parcels'));

  it('dead-letters a v1 entry (no v1 -> v2 upcaster) with reason no-upcaster, handles a v2 one as v3, and a redrive succeeds once the upcaster exists', async () => {
    const v1Id = await xadd(
      redis,
      ns,
      'parcels',
      'VersioningE2eParcelWeighed',
      1,
      { parcelId: 'P-1', grams: 1200 },
      'scale-service',
    );
    await xadd(
      redis,
      ns,
      'parcels',
      'VersioningE2eParcelWeighed',
      2,
      { parcelId: 'P-2', grams: 800, scale: 'S-9' },
      'scale-service',
    );
    const unknownId = await xadd(
      redis,
      ns,
      'parcels',
      'VersioningE2eParcelWeighed',
      7,
      { parcelId: 'P-3', grams: 1 },
      'scale-service',
    );
    await caughtUp();

    expect(handler.seen).toEqual([
      {
        payload: { parcelId: 'P-2', grams: 800, scale: 'S-9', station: 'unknown' },
        version: 2,
        upcastFrom: 2,
        wire: { parcelId: 'P-2', grams: 800, scale: 'S-9' },
      },
    ]);
    const dead = app.get(DeadLetterService);
    const letters = await dead.list('parcels');
    expect(letters.map((l) => [l.eventId, l.reason, l.group, l.handler])).toEqual([
      [v1Id, 'no-upcaster', 'parcels', 'ParcelHandler.onWeighed'],
      [unknownId, 'unknown-version', 'parcels', 'ParcelHandler.onWeighed'],
    ]);
    expect(letters[0].error).toBe(
      'VersioningE2eParcelWeighed v1 cannot be upcast to v3: no upcaster from v1; declare @Upcaster(ParcelWeighedV1, ParcelWeighedV2) on a class with upcast(payload), then redrive the dead letters',
    );
    expect(letters[1].error).toContain(
      'VersioningE2eParcelWeighed has no contract for version 7 (this service knows v1, v2, v3)',
    );

    // The fix ships: the missing upcaster is declared, then the dead letter is redriven.
    @Upcaster(ParcelWeighedV1, ParcelWeighedV2)
    class ParcelWeighedV1ToV2 implements EventUpcaster<ParcelWeighedV1, ParcelWeighedV2> {
      upcast(v1: ParcelWeighedV1): ParcelWeighedV2 {
        return { ...v1, scale: null };
      }
    }
    expect(ParcelWeighedV1ToV2.name).toBe('ParcelWeighedV1ToV2');
    expect(await dead.redrive('parcels', { reason: 'no-upcaster' })).toBe(1);
    await waitFor('redriven v1 handled', () => handler.seen.length === 2);
    expect(handler.seen[1]).toEqual({
      payload: { parcelId: 'P-1', grams: 1200, scale: null, station: 'unknown' },
      version: 1,
      upcastFrom: 1,
      wire: { parcelId: 'P-1', grams: 1200 },
    });
    expect((await dead.list('parcels')).map((l) => l.reason)).toEqual(['unknown-version']);
  });

  it('dead-letters an upcast payload that fails the newest contract as invalid-payload, saying it was upcast', async () => {
    await xadd(redis, ns, 'parcels', 'VersioningE2eParcelWeighed', 2, { parcelId: 'P-4', grams: -5 }, 'scale-service');
    await caughtUp();
    const [letter] = await app.get(DeadLetterService).list('parcels', { reason: 'invalid-payload' });
    expect(letter.error).toMatch(
      /^VersioningE2eParcelWeighed payload \(v2 upcast to v3\) is invalid: grams: grams must not be less than 0/,
    );
  });
});
