import Redis from 'ioredis';
import request from 'supertest';
import { OrderModule } from '@app/order';
import { createTestPlatformApp } from './support/platform-app';
import { ReplicatedRedis, RedisServer } from './support/redis-server';

/**
 * REDIS_WAIT_REPLICAS / REDIS_WAIT_TIMEOUT_MS: the platform's setting for the bus's `publishWait`
 * (libs/event-bus/test/publish-wait.e2e-spec.ts tests the option itself). Real primary and
 * replica; the replica is paused (SIGSTOP) to make replication stall.
 */
describe('REDIS_WAIT_REPLICAS: the shop answers once N replicas have the write', () => {
  let redis: ReplicatedRedis;
  let primary: RedisServer;
  let onReplica: Redis;

  beforeAll(async () => {
    redis = await ReplicatedRedis.start();
    ({ primary, onReplica } = redis);
  });

  afterAll(async () => {
    await redis?.destroy();
  });

  it('POST /orders answers 201 once the replica has the order, 503 when it cannot confirm', async () => {
    // Tried: the platform's order service with REDIS_WAIT_REPLICAS=1, the replica live, then paused.
    const { app } = await createTestPlatformApp([OrderModule], {
      env: { REDIS_URL: primary.url, REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '300' },
    });
    try {
      const order = { userId: 'wait-1', email: 'wait@example.com', items: [{ sku: 'SKU-MUG', quantity: 1 }] };
      const placed = await request(app.getHttpServer()).post('/orders').send(order).expect(201);
      const ns = process.env.EVENT_BUS_NAMESPACE!;
      expect(await onReplica.hget(`${ns}:svc:order:order:${placed.body.orderId}`, 'status')).toBe('Pending');
      redis.pause();
      try {
        const refused = await request(app.getHttpServer()).post('/orders').send(order).expect(503);
        expect(refused.body.message).toMatch(/0 of 1 replica\(s\) confirmed it within 300 ms/);
      } finally {
        redis.resume();
      }
    } finally {
      await app.close();
      delete process.env.REDIS_WAIT_REPLICAS;
      delete process.env.REDIS_WAIT_TIMEOUT_MS;
    }
  });
});
