import { Injectable, Module } from '@nestjs/common';
import type Redis from 'ioredis';
import request from 'supertest';
import { PaymentRefunded, PaymentSucceeded } from '@app/contracts';
import { EventBusModule, EventPublisher, Subscribe } from '@nest-streams/event-bus';
import { LoyaltyModule } from '@app/loyalty';
import { createTestPlatformApp, TestPlatformApp } from './support/platform-app';
import { RedisServer } from './support/redis-server';
import { testRedisClient, waitFor } from './support/redis';
import { groupCaughtUp, xaddEvent } from './support/streams';

/** A service whose refund handler always throws: retried once, then dead-lettered. */
@Injectable()
class RefundAuditor {
  @Subscribe(PaymentRefunded, { retry: { maxAttempts: 2, initialDelayMs: 10, jitter: 0 } })
  onRefund(): void {
    throw new Error('audit store is down');
  }
}

@Module({ imports: [EventBusModule.forFeature({ group: 'refund-audit' })], providers: [RefundAuditor] })
class RefundAuditModule {}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function parseExposition(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not an exposition line: ${line}`);
      const labels: Record<string, string> = {};
      for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
      return { name: match[1], labels, value: Number(match[3]) };
    });
}

/** The value of the one sample with exactly these labels, undefined when there is none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const keys = Object.keys(labels);
  return samples.find(
    (s) =>
      s.name === name && Object.keys(s.labels).length === keys.length && keys.every((k) => s.labels[k] === labels[k]),
  )?.value;
}

async function scrape(platform: TestPlatformApp): Promise<Sample[]> {
  const res = await request(platform.app.getHttpServer()).get('/metrics').expect(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain;.*version=0\.0\.4/);
  return parseExposition(res.text);
}

function payment(orderId: string): PaymentSucceeded {
  return new PaymentSucceeded({
    orderId,
    userId: 'u-1',
    userEmail: 'u-1@example.com',
    paymentId: `p-${orderId}`,
    amount: 42,
    currency: 'EUR',
    chargedAt: new Date().toISOString(),
  });
}

/** `/metrics` of a platform app: the bus's counters and histograms, and gauges read from Redis at scrape time. */
describe('metrics (/metrics, Prometheus)', () => {
  let redis: Redis;
  let platform: TestPlatformApp;
  let ns: string;
  const payments = (group: string, type = 'PaymentSucceeded') => ({ stream: 'payments', type, group });

  beforeAll(async () => {
    redis = testRedisClient();
    platform = await createTestPlatformApp([LoyaltyModule, RefundAuditModule]);
    ns = platform.namespace;
    const publisher = platform.app.get(EventPublisher);
    for (const orderId of ['o-1', 'o-2', 'o-3']) await publisher.publish(payment(orderId));
    await publisher.publish(
      new PaymentRefunded({
        orderId: 'o-1',
        userId: 'u-1',
        userEmail: 'u-1@example.com',
        paymentId: 'p-o-1',
        amount: 42,
        currency: 'EUR',
        refundedAt: new Date().toISOString(),
      }),
    );
    // A foreign producer's entry that breaks the contract: loyalty dead-letters it at once.
    await xaddEvent(redis, ns, {
      stream: 'payments',
      type: 'PaymentSucceeded',
      data: { orderId: 'o-bad', amount: -5 },
    });
    await waitFor(
      'loyalty and refund-audit caught up',
      async () =>
        (await groupCaughtUp(redis, ns, 'payments', 'loyalty')) &&
        (await groupCaughtUp(redis, ns, 'payments', 'refund-audit')),
    );
    // A foreign group that read 2 entries and acknowledged none, and one created at an arbitrary id (Redis cannot tell its lag).
    const key = `${ns}:{payments}`;
    await redis.xgroup('CREATE', key, 'probe', '0');
    await redis.xreadgroup('GROUP', 'probe', 'probe-1', 'COUNT', 2, 'STREAMS', key, '>');
    const [, [secondId]] = await redis.xrange(key, '-', '+', 'COUNT', 2);
    await redis.xgroup('CREATE', key, 'midway', secondId);
  });

  afterAll(async () => {
    await platform?.app.close();
    await redis?.quit();
  });

  it('counts publishes by stream and type, and every outcome by stream, type and group', async () => {
    const samples = await scrape(platform);
    expect(valueOf(samples, 'eventbus_events_published_total', { stream: 'payments', type: 'PaymentSucceeded' })).toBe(
      3,
    );
    expect(valueOf(samples, 'eventbus_events_published_total', { stream: 'payments', type: 'PaymentRefunded' })).toBe(
      1,
    );

    // loyalty: 3 payments handled, the foreign one dead-lettered, the refund handled.
    expect(valueOf(samples, 'eventbus_events_delivered_total', payments('loyalty'))).toBe(4);
    expect(valueOf(samples, 'eventbus_events_acked_total', payments('loyalty'))).toBe(3);
    expect(
      valueOf(samples, 'eventbus_events_dead_lettered_total', { ...payments('loyalty'), reason: 'invalid-payload' }),
    ).toBe(1);
    expect(valueOf(samples, 'eventbus_events_failed_total', payments('loyalty'))).toBe(0);
    expect(valueOf(samples, 'eventbus_events_acked_total', payments('loyalty', 'PaymentRefunded'))).toBe(1);

    // refund-audit: the refund failed, was retried once, failed again and was dead-lettered.
    expect(valueOf(samples, 'eventbus_events_delivered_total', payments('refund-audit', 'PaymentRefunded'))).toBe(1);
    expect(valueOf(samples, 'eventbus_events_failed_total', payments('refund-audit', 'PaymentRefunded'))).toBe(2);
    expect(valueOf(samples, 'eventbus_events_retried_total', payments('refund-audit', 'PaymentRefunded'))).toBe(1);
    expect(
      valueOf(samples, 'eventbus_events_dead_lettered_total', {
        ...payments('refund-audit', 'PaymentRefunded'),
        reason: 'handler-failed',
      }),
    ).toBe(1);
    expect(valueOf(samples, 'eventbus_events_acked_total', payments('refund-audit', 'PaymentRefunded'))).toBe(0);
  });

  it('times the successful handlings: handler duration and publish-to-handled latency', async () => {
    const samples = await scrape(platform);
    expect(valueOf(samples, 'eventbus_handler_duration_seconds_count', payments('loyalty'))).toBe(3);
    expect(valueOf(samples, 'eventbus_publish_to_handled_seconds_count', payments('loyalty'))).toBe(3);
    expect(valueOf(samples, 'eventbus_handler_duration_seconds_bucket', { ...payments('loyalty'), le: '+Inf' })).toBe(
      3,
    );
    expect(valueOf(samples, 'eventbus_publish_to_handled_seconds_sum', payments('loyalty'))).toBeGreaterThan(0);
    expect(
      valueOf(samples, 'eventbus_handler_duration_seconds_count', payments('refund-audit', 'PaymentRefunded')),
    ).toBe(0);
  });

  it("reads length, dead letters, and every group's pending and lag from Redis at scrape time", async () => {
    const samples = await scrape(platform);
    expect(valueOf(samples, 'eventbus_stream_length', { stream: 'payments' })).toBe(5);
    expect(valueOf(samples, 'eventbus_dead_letters', { stream: 'payments' })).toBe(2);
    for (const group of ['loyalty', 'refund-audit']) {
      expect(valueOf(samples, 'eventbus_group_pending', { stream: 'payments', group })).toBe(0);
      expect(valueOf(samples, 'eventbus_group_lag', { stream: 'payments', group })).toBe(0);
    }
    expect(valueOf(samples, 'eventbus_group_pending', { stream: 'payments', group: 'probe' })).toBe(2);
    expect(valueOf(samples, 'eventbus_group_lag', { stream: 'payments', group: 'probe' })).toBe(3);
    expect(valueOf(samples, 'eventbus_group_pending', { stream: 'payments', group: 'midway' })).toBe(0);
    expect(valueOf(samples, 'eventbus_group_lag', { stream: 'payments', group: 'midway' })).toBeUndefined();

    await redis.xack(
      `${ns}:{payments}`,
      'probe',
      ...(await redis.xrange(`${ns}:{payments}`, '-', '+', 'COUNT', 2)).map(([id]) => id),
    );
    await xaddEvent(redis, ns, { stream: 'payments', type: 'PaymentFailed', data: { orderId: 'o-9' } });
    const later = await scrape(platform);
    expect(valueOf(later, 'eventbus_group_pending', { stream: 'payments', group: 'probe' })).toBe(0);
    expect(valueOf(later, 'eventbus_group_lag', { stream: 'payments', group: 'probe' })).toBe(4);
    expect(valueOf(later, 'eventbus_stream_length', { stream: 'payments' })).toBe(6);
  });

  it('serves process metrics too, and stays out of the Swagger document', async () => {
    const samples = await scrape(platform);
    expect(valueOf(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    const doc = await request(platform.app.getHttpServer()).get('/docs-json').expect(200);
    expect(Object.keys(doc.body.paths)).not.toContain('/metrics');
  });

  it('serves each of two apps in one process from its own registry, with no "already registered" error', async () => {
    const other = await createTestPlatformApp([LoyaltyModule]);
    try {
      await other.app.get(EventPublisher).publish(payment('o-other'));
      await waitFor('the other loyalty caught up', () => groupCaughtUp(redis, other.namespace, 'payments', 'loyalty'));
      const [mine, theirs] = await Promise.all([scrape(platform), scrape(other)]);
      expect(valueOf(theirs, 'eventbus_events_published_total', { stream: 'payments', type: 'PaymentSucceeded' })).toBe(
        1,
      );
      expect(valueOf(theirs, 'eventbus_events_acked_total', payments('loyalty'))).toBe(1);
      expect(valueOf(theirs, 'eventbus_stream_length', { stream: 'payments' })).toBe(1);
      expect(valueOf(mine, 'eventbus_events_published_total', { stream: 'payments', type: 'PaymentSucceeded' })).toBe(
        3,
      );
      expect(valueOf(mine, 'eventbus_events_acked_total', payments('loyalty'))).toBe(3);
    } finally {
      await other.app.close();
    }
  });
});

describe('metrics while Redis is away', () => {
  let server: RedisServer;
  let platform: TestPlatformApp;

  beforeAll(async () => {
    server = await RedisServer.start();
    platform = await createTestPlatformApp([LoyaltyModule], { env: { REDIS_URL: server.url } });
    await platform.app.get(EventPublisher).publish(payment('o-1'));
  });

  afterAll(async () => {
    await platform?.app.close();
    await server?.destroy();
  });

  it('still answers with the counters, leaves the Redis gauges out, and brings them back with Redis', async () => {
    await waitFor(
      'the payment handled',
      async () =>
        valueOf(await scrape(platform), 'eventbus_events_acked_total', {
          stream: 'payments',
          type: 'PaymentSucceeded',
          group: 'loyalty',
        }) === 1,
    );
    expect(valueOf(await scrape(platform), 'eventbus_stream_length', { stream: 'payments' })).toBe(1);

    await server.kill();
    const began = Date.now();
    const down = await scrape(platform);
    expect(Date.now() - began).toBeLessThan(3_000);
    expect(
      valueOf(down, 'eventbus_events_acked_total', { stream: 'payments', type: 'PaymentSucceeded', group: 'loyalty' }),
    ).toBe(1);
    expect(down.some((s) => s.name === 'eventbus_stream_length' || s.name === 'eventbus_group_pending')).toBe(false);

    await server.boot();
    await waitFor(
      'the Redis gauges back',
      async () =>
        valueOf(await scrape(platform), 'eventbus_group_pending', { stream: 'payments', group: 'loyalty' }) === 0,
    );
  });
});
