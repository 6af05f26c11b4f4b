import { Injectable, Logger, Module } from '@nestjs/common';
import type Redis from 'ioredis';
import request from 'supertest';
import { OrderPlaced } from '@app/contracts';
import { encodeEnvelope, EventBusModule, EventEnvelope, Subscribe } from '@nest-streams/event-bus';
import { InventoryModule } from '@app/inventory';
import { createTestPlatformApp, TestPlatformApp } from './support/platform-app';
import { testRedisClient, waitFor } from './support/redis';

type LogLine = Record<string, unknown> & { level: string; msg: string };

/** Refuses every order, logging first: two attempts, then a dead letter. */
@Injectable()
class RefusingProbe {
  private readonly logger = new Logger(RefusingProbe.name);

  @Subscribe(OrderPlaced, { retry: { maxAttempts: 2, initialDelayMs: 20, jitter: 0 } })
  refuse(order: OrderPlaced): void {
    this.logger.log(`refusing order ${order.orderId}`);
    throw new Error(`probe refuses ${order.orderId}`);
  }
}

@Module({
  imports: [EventBusModule.forFeature({ group: 'log-probe', source: 'log-probe' })],
  providers: [RefusingProbe],
})
class RefusingProbeModule {}

/**
 * The inventory service (which logs every reservation) and a probe group that fails, booted as
 * main.ts does with LOG_LEVEL=log, its pino output read back line by line.
 */
describe('structured logs', () => {
  const lines: LogLine[] = [];
  const logDestination = { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) };
  let platform: TestPlatformApp;
  let redis: Redis;

  beforeAll(async () => {
    redis = testRedisClient();
    platform = await createTestPlatformApp([InventoryModule, RefusingProbeModule], {
      env: { LOG_LEVEL: 'log', LOG_FORMAT: 'json' },
      platform: { logDestination },
    });
  });

  afterAll(async () => {
    await platform?.app.close();
    await redis?.quit();
  });

  it('writes every Nest Logger line, from startup on, as one JSON object with level, ISO time, context and msg', () => {
    const started = lines.find((l) => l.msg === 'Nest application successfully started');
    expect(started).toMatchObject({ level: 'info', context: 'NestApplication', name: 'test' });
    expect(new Date(started!.time as string).toISOString()).toBe(started!.time);
    // NOTE: logged while the app was created, before its logger existed: buffered, then written through pino.
    expect(lines.find((l) => l.context === 'InstanceLoader')).toMatchObject({ level: 'info' });
    expect(lines.find((l) => l.context === 'EventBus' && l.msg.includes('RefusingProbe.refuse'))).toBeDefined();
    expect(lines.filter((l) => 'eventId' in l)).toEqual([]);
  });

  it('stamps each line about a delivery (handler, retry, dead letter) with event id, type, correlation id, group and attempt', async () => {
    // Tried: an OrderPlaced with a correlation and causation id, as the order service would publish
    // it after an earlier event; inventory reserves it, the probe fails it twice.
    const orderId = 'ORD-LOGS-1';
    const envelope: EventEnvelope<OrderPlaced> = {
      specversion: '1.0',
      id: 'evt-logs-1',
      type: 'OrderPlaced',
      version: 2,
      source: 'order-service',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      subject: orderId,
      correlationid: 'corr-logs-1',
      causationid: 'cause-logs-1',
      data: {
        orderId,
        userId: 'u-1',
        userEmail: 'ada@example.com',
        items: [{ sku: 'SKU-MUG', name: 'Enamel mug', unitPrice: 12.5, quantity: 1 }],
        total: 12.5,
        currency: 'EUR',
        placedAt: new Date().toISOString(),
        discountCode: null,
      },
    };
    const entryId = await redis.xadd(`${platform.namespace}:{orders}`, '*', ...encodeEnvelope(envelope));
    const about = (l: LogLine): boolean => l.eventId === envelope.id;
    await waitFor(
      'the reservation, both refusals, the retry and the dead letter logged',
      () => lines.filter(about).length >= 5,
    );

    const event = {
      eventId: 'evt-logs-1',
      eventType: 'OrderPlaced',
      correlationId: 'corr-logs-1',
      causationId: 'cause-logs-1',
      stream: 'orders',
      entryId,
    };
    const reserved = lines.find(
      (l) => l.context === 'ReservationHandler' && l.msg.startsWith(`order ${orderId}: reserved`),
    );
    expect(reserved).toMatchObject({ ...event, level: 'info', group: 'inventory', attempt: 1 });

    const refusals = lines.filter((l) => l.context === RefusingProbe.name);
    expect(refusals).toEqual([
      expect.objectContaining({ ...event, group: 'log-probe', attempt: 1 }),
      expect.objectContaining({ ...event, group: 'log-probe', attempt: 2 }),
    ]);
    const retry = lines.find(
      (l) => l.level === 'warn' && /RefusingProbe\.refuse failed on OrderPlaced .* retrying/.test(l.msg),
    );
    expect(retry).toMatchObject({ ...event, group: 'log-probe', attempt: 1 });
    const deadLetter = lines.find((l) => l.level === 'warn' && l.msg.includes('dead-lettered'));
    expect(deadLetter).toMatchObject({ ...event, group: 'log-probe', attempt: 2 });
  });

  it('logs one line per request with its request id (a sane x-request-id is kept), x-api-key redacted, none for /health', async () => {
    const server = platform.app.getHttpServer();
    const apiKey = 'reader-key-that-must-not-be-logged';
    const given = await request(server)
      .get('/inventory')
      .set('x-request-id', 'req-logs-1')
      .set('x-api-key', apiKey)
      .expect(200);
    expect(given.headers['x-request-id']).toBe('req-logs-1');
    const generated = await request(server)
      .get('/inventory')
      .set('x-request-id', 'spaces and "quotes" are not kept')
      .expect(200);
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    await request(server).get('/health/live').expect(200);
    await request(server).get('/inventory/no-such-route').expect(404);

    const requestLines = (): LogLine[] => lines.filter((l) => 'reqId' in l && 'res' in l);
    await waitFor('three request lines', () => requestLines().length >= 3);
    const [first, second, missing] = requestLines();
    expect(first).toMatchObject({
      level: 'info',
      reqId: 'req-logs-1',
      msg: expect.stringMatching(/^GET \/inventory 200 \d+ ms$/),
      res: { statusCode: 200 },
    });
    expect(first.req).toMatchObject({
      id: 'req-logs-1',
      method: 'GET',
      url: '/inventory',
      headers: { 'x-api-key': '[redacted]' },
    });
    expect(second.reqId).toBe(generated.headers['x-request-id']);
    expect(missing).toMatchObject({ level: 'warn', res: { statusCode: 404 } });
    expect(requestLines()).toHaveLength(3);
    expect(JSON.stringify(lines)).not.toContain(apiKey);
  });
});
