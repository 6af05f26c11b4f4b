import type { INestApplication } from '@nestjs/common';
import Ajv from 'ajv';
import request from 'supertest';
import { EventBusExplorer } from '@nest-streams/event-bus/event-bus.explorer';
import { scanSubscriptions } from '@nest-streams/event-bus/catalogue';
import { testNamespace, testRedisUrl } from './support/redis';

type Json = Record<string, any>;

/** Every `$ref` of the document, with where it sits. */
function refs(node: unknown, path = '#', out: Array<[string, string]> = []): Array<[string, string]> {
  if (Array.isArray(node)) node.forEach((item, i) => refs(item, `${path}/${i}`, out));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') out.push([path, value]);
      else refs(value, `${path}/${key}`, out);
    }
  }
  return out;
}

const resolvePointer = (doc: Json, ref: string): unknown =>
  ref
    .slice(2)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<any>((node, key) => node?.[key], doc);

/** GET /events/asyncapi.json on the platform app as `npm start` runs it. */
describe('event catalogue (AsyncAPI) of the platform app', () => {
  let app: INestApplication;
  let doc: Json;

  beforeAll(async () => {
    process.env.REDIS_URL = testRedisUrl();
    process.env.EVENT_BUS_NAMESPACE = testNamespace('catalogue');
    process.env.PORT = '0';
    process.env.LOG_LEVEL = 'error';
    const { createApp } = await import('@app/api');
    app = await createApp();
    await app.listen(0, '127.0.0.1');
    doc = (await request(app.getHttpServer()).get('/events/asyncapi.json').expect(200).expect('content-type', /json/))
      .body as Json;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('is an AsyncAPI 3.0.0 document whose every $ref resolves', () => {
    expect(doc).toMatchObject({
      asyncapi: '3.0.0',
      info: { title: expect.any(String), version: expect.any(String) },
      defaultContentType: 'application/json',
    });
    const broken = refs(doc).filter(([, ref]) => resolvePointer(doc, ref) === undefined);
    expect(broken).toEqual([]);
    expect(refs(doc).length).toBeGreaterThan(50);
  });

  it('has a channel per stream, addressed by the logical name, the Redis key in its description', () => {
    expect(Object.keys(doc.channels)).toEqual(expect.arrayContaining(['inventory', 'orders', 'payments']));
    for (const [name, channel] of Object.entries(doc.channels as Record<string, Json>))
      expect(channel.address).toBe(name);
    const ns = process.env.EVENT_BUS_NAMESPACE;
    expect(doc.channels.orders).toMatchObject({
      address: 'orders',
      description: expect.stringContaining(`\`${ns}:{orders}\``),
    });
    expect(Object.keys(doc.channels.orders.messages)).toEqual([
      'OrderCancelled.v1',
      'OrderConfirmed.v1',
      'OrderPlaced.v1',
      'OrderPlaced.v2',
    ]);
  });

  it('has a message per type and version with its payload schema, usable to validate payloads', () => {
    const { messages } = doc.components;
    expect(messages['OrderPlaced.v2']).toMatchObject({
      name: 'OrderPlaced',
      title: 'OrderPlaced v2',
      contentType: 'application/json',
      'x-event-version': 2,
    });
    expect(messages['OrderPlaced.v2'].payload.properties).toHaveProperty('discountCode');
    expect(messages['OrderPlaced.v1'].payload.properties).not.toHaveProperty('discountCode');
    expect(messages['OrderPlaced.v1'].description).toContain('Upcast to v2 by OrderPlacedV1ToV2');
    expect(messages['OrderPlaced.v2'].headers.properties.version).toEqual(expect.objectContaining({ const: '2' }));

    // The payload schemas are JSON Schema: with the document's components beside them, their $refs resolve.
    const ajv = new Ajv({ strict: false, validateFormats: false });
    const validate = ajv.compile({ ...messages['OrderPlaced.v2'].payload, components: doc.components });
    const order = {
      orderId: 'ORD-1',
      userId: 'u',
      userEmail: 'u@example.com',
      items: [{ sku: 'SKU-MUG', name: 'Mug', unitPrice: 1, quantity: 1 }],
      total: 1,
      currency: 'EUR',
      placedAt: '2026-01-01T00:00:00.000Z',
    };
    expect(validate(order)).toBe(true);
    expect(validate({ ...order, discountCode: null })).toBe(true);
    expect(validate({ ...order, items: [{ sku: 'SKU-MUG', name: 'Mug', unitPrice: 1, quantity: 0 }] })).toBe(false);
    expect(validate({ ...order, discountCode: 7 })).toBe(false);
  });

  it('has send operations for the declared producers and receive operations for the consumer groups bound in this process', () => {
    const ops = doc.operations as Record<string, Json>;
    for (const op of Object.values(ops)) {
      expect(['send', 'receive']).toContain(op.action);
      // AsyncAPI 3: an operation's messages are those of its channel.
      for (const m of op.messages) expect(m.$ref.startsWith(`${op.channel.$ref}/messages/`)).toBe(true);
    }
    expect(ops['order-service.send.OrderPlaced']).toMatchObject({
      action: 'send',
      channel: { $ref: '#/channels/orders' },
      messages: [
        { $ref: '#/channels/orders/messages/OrderPlaced.v1' },
        { $ref: '#/channels/orders/messages/OrderPlaced.v2' },
      ],
    });
    expect(ops['payment-service.send.PaymentSucceeded']).toMatchObject({
      action: 'send',
      channel: { $ref: '#/channels/payments' },
    });
    for (const group of ['inventory', 'payment', 'analytics']) {
      expect(ops[`${group}.receive.OrderPlaced`]).toMatchObject({
        action: 'receive',
        'x-consumer-group': group,
        messages: [
          { $ref: '#/channels/orders/messages/OrderPlaced.v1' },
          { $ref: '#/channels/orders/messages/OrderPlaced.v2' },
        ],
      });
    }
    expect(ops['inventory.receive.OrderPlaced'].summary).toBe(
      'consumer group inventory (inventory-service): ReservationHandler.onOrderPlaced',
    );
    expect(ops['loyalty.receive.PaymentSucceeded']).toMatchObject({
      action: 'receive',
      channel: { $ref: '#/channels/payments' },
    });
    expect(
      Object.keys(ops)
        .filter((k) => k.includes('.receive.OrderPlaced'))
        .sort(),
    ).toEqual(['analytics.receive.OrderPlaced', 'inventory.receive.OrderPlaced', 'payment.receive.OrderPlaced']);
  });

  it('the offline scan (npm run catalogue) finds the same bindings as the running app', async () => {
    const { AppModule } = await import('@app/api/app.module');
    const key = (s: { group: string; service?: string; stream: string; type: string; handler: string }) =>
      `${s.group}|${s.service}|${s.stream}|${s.type}|${s.handler}`;
    const running = app.get(EventBusExplorer).subscriptions.map(key).sort();
    expect(running.length).toBeGreaterThan(10);
    expect(scanSubscriptions(AppModule).map(key).sort()).toEqual(running);
  });
});
