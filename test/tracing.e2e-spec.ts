import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type Redis from 'ioredis';
import request from 'supertest';
import type { EventEnvelope } from '@nest-streams/event-bus';
import { activeTracing, setupTracing, TRACE_RESPONSE_HEADER, Tracing } from '@app/platform';
import { AnalyticsModule } from '@app/analytics';
import { EmailModule, mailJobId } from '@app/email';
import { InventoryModule } from '@app/inventory';
import { LoyaltyModule } from '@app/loyalty';
import { OrderModule } from '@app/order';
import { PaymentModule } from '@app/payment';
import { createTestPlatformApp } from './support/platform-app';
import { testRedisClient, waitFor } from './support/redis';
import { groupCaughtUp, readEvents } from './support/streams';

const SHOP = [OrderModule, InventoryModule, PaymentModule, EmailModule, LoyaltyModule, AnalyticsModule];
const GROUPS: Record<string, string[]> = {
  orders: ['inventory', 'payment', 'analytics', 'email'],
  inventory: ['order'],
  payments: ['order', 'loyalty'],
};

interface Shop {
  app: INestApplication;
  ns: string;
  redis: Redis;
}

async function startShop(env: Record<string, string> = {}): Promise<Shop> {
  const { app, namespace } = await createTestPlatformApp(SHOP, { env: { EMAIL_RETRY_DELAY_MS: '50', ...env } });
  return { app, ns: namespace, redis: testRedisClient() };
}

async function stopShop(shop: Shop | undefined): Promise<void> {
  await shop?.app.close();
  await shop?.redis.quit();
}

/** Places an order and waits until it is decided and every group has handled every event. */
async function placeAndSettle(
  shop: Shop,
  traceparent?: string,
): Promise<{ orderId: string; headers: Record<string, string> }> {
  const post = request(shop.app.getHttpServer()).post('/orders');
  if (traceparent) post.set('traceparent', traceparent);
  const res = await post
    .send({ userId: 'tracy', email: 'tracy@example.com', items: [{ sku: 'SKU-MUG', quantity: 1 }] })
    .expect(201);
  const orderId = res.body.orderId as string;
  await waitFor(
    `order ${orderId} confirmed`,
    async () => (await request(shop.app.getHttpServer()).get(`/orders/${orderId}`)).body.status === 'Confirmed',
    15_000,
  );
  await waitFor(
    'every group caught up',
    async () => {
      for (const [stream, groups] of Object.entries(GROUPS)) {
        for (const group of groups) if (!(await groupCaughtUp(shop.redis, shop.ns, stream, group))) return false;
      }
      return true;
    },
    15_000,
  );
  return { orderId, headers: res.headers as Record<string, string> };
}

/** Every event of the order's flow, as stored in Redis, with its stream. */
async function flowEvents(
  shop: Shop,
  orderId: string,
): Promise<Array<EventEnvelope<{ orderId?: string }> & { stream: string }>> {
  const all = await Promise.all(
    Object.keys(GROUPS).map(async (stream) =>
      (await readEvents<{ orderId?: string }>(shop.redis, shop.ns, stream)).map((e) => ({ ...e, stream })),
    ),
  );
  return all.flat().filter((e) => e.data.orderId === orderId);
}

// NOTE: this block runs first on purpose: once a test file registers an SDK, it stays registered in that file.
describe('tracing off (OTEL_SDK_DISABLED=true)', () => {
  let shop: Shop;

  beforeAll(async () => {
    shop = await startShop({ OTEL_SDK_DISABLED: 'true' });
  });
  afterAll(async () => {
    await stopShop(shop);
    delete process.env.OTEL_SDK_DISABLED;
  });

  it('publishes and consumes as before, with no traceparent on any event and no traceresponse header', async () => {
    expect(activeTracing()?.enabled).toBe(false);
    const { orderId, headers } = await placeAndSettle(
      shop,
      `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
    );
    const events = await flowEvents(shop, orderId);
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['OrderPlaced', 'InventoryReserved', 'PaymentSucceeded', 'OrderConfirmed']),
    );
    expect(events.filter((e) => e.traceparent !== undefined || e.tracestate !== undefined)).toEqual([]);
    expect(headers[TRACE_RESPONSE_HEADER]).toBeUndefined();
  });
});

describe('tracing on (an SDK with an in-memory exporter)', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let shop: Shop;

  beforeAll(async () => {
    tracing = setupTracing({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    shop = await startShop();
  });
  afterAll(async () => {
    await stopShop(shop);
    await tracing?.shutdown();
  });

  it('follows POST /orders -> OrderPlaced -> ... -> OrderConfirmed -> its consumers in one trace, each span a child of its cause', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const { orderId, headers } = await placeAndSettle(shop, `00-${traceId}-${callerSpanId}-01`);
    await tracing.flush();
    const events = await flowEvents(shop, orderId);
    const correlationId = events.find((e) => e.type === 'OrderPlaced')!.id;
    const spans = exporter.getFinishedSpans();
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const parentOf = (s: ReadableSpan): ReadableSpan | undefined => byId.get(s.parentSpanContext?.spanId ?? '');
    const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);

    // Every span of the flow (HTTP, every publish and every handling of its events) is in the caller's trace.
    const ofFlow = spans.filter((s) => s.attributes['messaging.message.conversation_id'] === correlationId);
    expect(ofFlow.length).toBeGreaterThan(0);
    expect(ofFlow.filter((s) => s.spanContext().traceId !== traceId)).toEqual([]);

    // The HTTP SERVER span is a child of the caller's span, and the client is told so.
    const server = inTrace.filter((s) => s.kind === SpanKind.SERVER);
    expect(server.map((s) => s.name)).toEqual(['POST /orders']);
    expect(server[0].parentSpanContext?.spanId).toBe(callerSpanId);
    expect(server[0].attributes['http.response.status_code']).toBe(201);
    expect(headers[TRACE_RESPONSE_HEADER]).toBe(`00-${traceId}-${server[0].spanContext().spanId}-01`);

    // OrderPlaced is published in a PRODUCER span under the HTTP span.
    const placed = inTrace.find((s) => s.kind === SpanKind.PRODUCER && s.attributes['event.type'] === 'OrderPlaced')!;
    expect(placed.name).toBe('publish orders');
    expect(parentOf(placed)).toBe(server[0]);

    // Every event in Redis carries the traceparent of the PRODUCER span that published it.
    for (const event of events) {
      const [version, eventTraceId, spanId, flags] = (event.traceparent ?? '').split('-');
      expect({ type: event.type, version, traceId: eventTraceId, flags }).toEqual({
        type: event.type,
        version: '00',
        traceId,
        flags: '01',
      });
      expect(byId.get(spanId)).toMatchObject({ kind: SpanKind.PRODUCER, name: `publish ${event.stream}` });
    }

    // Every CONSUMER span's parent is the PRODUCER span of its event, on its stream.
    // NOTE: the bus's CONSUMER spans (a mail's BullMQ job has one too: see the next test).
    const consumers = inTrace.filter((s) => s.kind === SpanKind.CONSUMER && s.attributes['event.type'] !== undefined);
    for (const consumer of consumers) {
      const event = events.find((e) => e.id === consumer.attributes['messaging.message.id'])!;
      expect(consumer.name).toBe(`process ${event.stream}`);
      expect(consumer.parentSpanContext?.spanId).toBe(event.traceparent!.split('-')[2]);
      expect(parentOf(consumer)?.attributes['messaging.destination.name']).toBe(event.stream);
    }
    const handled = consumers.map(
      (c) => `${c.attributes['event.type']} -> ${c.attributes['messaging.consumer.group.name']}`,
    );
    expect(handled).toEqual(
      expect.arrayContaining([
        'OrderPlaced -> inventory',
        'OrderPlaced -> payment',
        'InventoryReserved -> order',
        'PaymentSucceeded -> order',
        'PaymentSucceeded -> loyalty',
        'OrderConfirmed -> email',
      ]),
    );

    // The chain HTTP -> event -> event -> event: from the mail's CONSUMER span up to the caller, every span the child of its cause.
    const mailed = consumers.find(
      (c) =>
        c.attributes['event.type'] === 'OrderConfirmed' && c.attributes['messaging.consumer.group.name'] === 'email',
    )!;
    const chain: string[] = [];
    for (let s: ReadableSpan | undefined = mailed; s; s = parentOf(s))
      chain.unshift(`${SpanKind[s.kind]} ${s.name} ${s.attributes['event.type'] ?? ''}`.trim());
    // NOTE: the saga confirms on whichever of InventoryReserved and PaymentSucceeded it handles last.
    expect(chain).toEqual([
      'SERVER POST /orders',
      'PRODUCER publish orders OrderPlaced',
      'CONSUMER process orders OrderPlaced',
      expect.stringMatching(/^PRODUCER (publish inventory InventoryReserved|publish payments PaymentSucceeded)$/),
      expect.stringMatching(/^CONSUMER (process inventory InventoryReserved|process payments PaymentSucceeded)$/),
      'PRODUCER publish orders OrderConfirmed',
      'CONSUMER process orders OrderConfirmed',
    ]);
    expect(parentOf(server[0])).toBeUndefined(); // the caller's span is not ours
  });

  it("puts the order mail's BullMQ job in the same trace: added under the email handler's span, processed under the add", async () => {
    const traceId = randomBytes(16).toString('hex');
    const { orderId } = await placeAndSettle(shop, `00-${traceId}-${randomBytes(8).toString('hex')}-01`);
    const inTrace = (): ReadableSpan[] =>
      exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    // NOTE: the job runs after the event was acknowledged: wait for the worker's span to end.
    await waitFor(
      'the mail job processed in the trace',
      () => inTrace().some((s) => s.kind === SpanKind.CONSUMER && s.name === 'process email'),
      15_000,
    );
    const spans = inTrace();
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const handler = spans.find(
      (s) =>
        s.kind === SpanKind.CONSUMER &&
        s.attributes['event.type'] === 'OrderConfirmed' &&
        s.attributes['messaging.consumer.group.name'] === 'email',
    )!;
    expect(handler).toBeDefined();

    const added = spans.filter((s) => s.kind === SpanKind.PRODUCER && s.name === 'add email.order-confirmed');
    expect(added).toHaveLength(1);
    expect(added[0].parentSpanContext?.spanId).toBe(handler.spanContext().spanId);
    const processed = spans.filter((s) => s.kind === SpanKind.CONSUMER && s.name === 'process email');
    expect(processed).toHaveLength(1);
    expect(processed[0].parentSpanContext?.spanId).toBe(added[0].spanContext().spanId);
    expect(processed[0].attributes['bullmq.job.id']).toBe(mailJobId('order-confirmed', orderId));
    expect(byId.get(processed[0].parentSpanContext!.spanId)).toBe(added[0]);

    // BullMQ's housekeeping (fetching jobs, stalled checks) is not recorded: no trace of its own every few seconds.
    const internal = exporter
      .getFinishedSpans()
      .filter((s) => s.instrumentationScope.name === 'bullmq' && s.kind === SpanKind.INTERNAL);
    expect(internal.map((s) => s.name)).toEqual([]);
  });
});
