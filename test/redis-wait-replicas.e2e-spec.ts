import Redis from 'ioredis';
import request from 'supertest';
import { OrderModule } from '@app/order';
import { createTestPlatformApp } from './support/platform-app';
import { RedisServer } from './support/redis-server';
import { waitFor } from './support/redis';

/**
 * REDIS_WAIT_REPLICAS / REDIS_WAIT_TIMEOUT_MS: the platform's setting for the bus's `publishWait`
 * (libs/event-bus/test/publish-wait.e2e-spec.ts tests the option itself). Real primary and
 * replica; the replica is paused (SIGSTOP) to make replication stall.
 */
describe('REDIS_WAIT_REPLICAS: the shop answers once N replicas have the write', () => {
  let primary: RedisServer;
  let replica: RedisServer;
  let onReplica: Redis;

  beforeAll(async () => {
    primary = await RedisServer.start();
    replica = await RedisServer.start({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    onReplica = new Redis(replica.url);
    await waitFor(
      'replica linked',
      async () => /master_link_status:up/.test(await onReplica.info('replication')),
      10_000,
    );
  });

  afterAll(async () => {
    if (replica?.pid) process.kill(replica.pid, 'SIGCONT');
    onReplica?.disconnect();
    await replica?.destroy();
    await primary?.destroy();
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
      process.kill(replica.pid!, 'SIGSTOP');
      try {
        const refused = await request(app.getHttpServer()).post('/orders').send(order).expect(503);
        expect(refused.body.message).toMatch(/0 of 1 replica\(s\) confirmed it within 300 ms/);
      } finally {
        process.kill(replica.pid!, 'SIGCONT');
      }
    } finally {
      await app.close();
      delete process.env.REDIS_WAIT_REPLICAS;
      delete process.env.REDIS_WAIT_TIMEOUT_MS;
    }
  });
});
