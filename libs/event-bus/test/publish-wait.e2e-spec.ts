import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import Redis from 'ioredis';
import { EventBusModule, EventPublisher, PublishFailedError } from '@nest-streams/event-bus';
import { ParcelShipped } from './fixtures/fixture-events';
import { ReplicatedRedis, RedisServer } from '../../../test/support/redis-server';

/**
 * `publishWait`: a publish resolves once the replicas have the write. Real
 * primary and replica; the replica is paused (SIGSTOP) to make replication stall.
 */
describe('publishWait: a publish resolves once N replicas have it', () => {
  let redis: ReplicatedRedis;
  let primary: RedisServer;
  let onReplica: Redis;
  const apps: INestApplicationContext[] = [];

  beforeAll(async () => {
    redis = await ReplicatedRedis.start();
    ({ primary, onReplica } = redis);
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await redis?.destroy();
  });

  async function publisher(publishWait?: { replicas: number; timeoutMs?: number }): Promise<EventPublisher> {
    @Module({
      imports: [EventBusModule.forRoot({ redis: primary.url, namespace: 'wait', consume: false, publishWait })],
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
    apps.push(app);
    return app.get(EventPublisher);
  }

  it('resolves once the replica has the event: read from the replica right after, it is there', async () => {
    const pub = await publisher({ replicas: 1, timeoutMs: 2000 });
    for (let i = 0; i < 20; i++) {
      const { entryId } = await pub.publish(new ParcelShipped({ parcelId: `W-${i}` }));
      expect(await onReplica.xrange('wait:{parcels}', entryId, entryId)).toHaveLength(1);
    }
    // Concurrent publishes share one WAIT and all resolve replicated.
    const many = await Promise.all(
      Array.from({ length: 50 }, (_, i) => pub.publish(new ParcelShipped({ parcelId: `C-${i}` }))),
    );
    const last = many
      .map((p) => p.entryId)
      .sort()
      .pop()!;
    expect(await onReplica.xrange('wait:{parcels}', last, last)).toHaveLength(1);
  });

  it('fails with PublishFailedError when the replica does not confirm in time; without publishWait the same publish resolves', async () => {
    // Tried: the replica paused (SIGSTOP) while publishing, with and without publishWait.
    const waiting = await publisher({ replicas: 1, timeoutMs: 300 });
    const plain = await publisher();
    redis.pause();
    try {
      const began = Date.now();
      const failed = await waiting
        .publish(new ParcelShipped({ parcelId: 'W-stalled' }))
        .catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(PublishFailedError);
      expect((failed as Error).message).toMatch(/0 of 1 replica\(s\) confirmed it within 300 ms/);
      expect(Date.now() - began).toBeGreaterThanOrEqual(290);
      // It is on the primary: the error says the write may be lost on failover, not that it did not happen.
      const onPrimary = new Redis(primary.url);
      const shipped = (await onPrimary.xrange('wait:{parcels}', '-', '+')).filter(([, f]) =>
        f.join(' ').includes('W-stalled'),
      );
      onPrimary.disconnect();
      expect(shipped).toHaveLength(1);
      await expect(plain.publish(new ParcelShipped({ parcelId: 'P-stalled' }))).resolves.toMatchObject({
        stream: 'parcels',
      });
    } finally {
      redis.resume();
    }
  });
});
