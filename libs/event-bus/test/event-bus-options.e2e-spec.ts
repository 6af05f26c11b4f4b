import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type Redis from 'ioredis';
import { EventBusModule, EventContext, EventPublisher, Subscribe } from '@nest-streams/event-bus';
import { ParcelOrdered } from './fixtures/fixture-events';
import { testNamespace, testRedisClient, testRedisUrl, waitFor } from '../../../test/support/redis';

const seen: EventContext[] = [];

@Injectable()
class Recorder {
  @Subscribe(ParcelOrdered, { group: 'recorder' })
  record(_parcel: ParcelOrdered, context: EventContext): void {
    seen.push(context);
  }
}

@Injectable()
class Orphan {
  @Subscribe(ParcelOrdered)
  nobodyOwnsMe(): void {}
}

/** Module options as users pass them: async factories, ACL credentials, ioredis option objects. */
describe('EventBusModule options (real Redis)', () => {
  let admin: Redis;
  const port = () => Number(new URL(testRedisUrl()).port);

  beforeAll(() => {
    admin = testRedisClient();
  });
  afterAll(async () => {
    await admin.quit();
  });
  beforeEach(() => {
    seen.length = 0;
  });

  it('forRootAsync: options from an injected factory; a root-level publisher publishes with the root source', async () => {
    const namespace = testNamespace('async');

    @Injectable()
    class Settings {
      url = testRedisUrl();
    }
    @Module({ providers: [Settings], exports: [Settings] })
    class SettingsModule {}
    @Module({
      imports: [
        EventBusModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: (settings: Settings) => ({
            redis: settings.url,
            namespace,
            source: 'root-app',
            consumer: { blockMs: 100 },
          }),
        }),
      ],
      providers: [Recorder],
    })
    class AppModule {}

    const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
    try {
      await app.get(EventPublisher).publish(new ParcelOrdered({ parcelId: 'P-async', weight: 1 }));
      await waitFor('delivery', () => seen.length === 1);
      expect(seen[0].envelope.source).toBe('root-app');
      expect(seen[0].group).toBe('recorder');
    } finally {
      await app.close();
    }
  });

  it('connects with an ACL user from the URL and from ioredis options; a wrong password fails at startup', async () => {
    const namespace = testNamespace('acl');
    await admin.call('ACL', 'SETUSER', `bus-${namespace}`, 'on', '>s3cret', `~${namespace}:*`, '+@all');
    const user = `bus-${namespace}`;
    for (const redis of [
      `redis://${user}:s3cret@127.0.0.1:${port()}`,
      { host: '127.0.0.1', port: port(), username: user, password: 's3cret' },
    ]) {
      seen.length = 0;
      @Module({
        imports: [EventBusModule.forRoot({ redis, namespace, consumer: { blockMs: 100 } })],
        providers: [Recorder],
      })
      class AppModule {}
      const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
      try {
        await app.get(EventPublisher).publish(new ParcelOrdered({ parcelId: 'P-acl', weight: 1 }));
        await waitFor('delivery as ACL user', () => seen.length === 1);
      } finally {
        await app.close();
      }
    }

    @Module({
      imports: [
        EventBusModule.forRoot({
          redis: {
            host: '127.0.0.1',
            port: port(),
            username: user,
            password: 'wrong',
            maxRetriesPerRequest: 0,
            retryStrategy: () => null,
          },
          namespace,
        }),
      ],
      providers: [Recorder],
    })
    class BadModule {}
    const bad = await NestFactory.createApplicationContext(BadModule, { logger: false, abortOnError: false }).catch(
      (e: unknown) => e,
    );
    expect(String(bad)).toMatch(/WRONGPASS|NOAUTH|invalid username-password/i);
  });

  it('refuses to start when a handler has no consumer group, saying how to give it one', async () => {
    @Module({
      imports: [EventBusModule.forRoot({ redis: testRedisUrl(), namespace: testNamespace('nogroup') })],
      providers: [Orphan],
    })
    class AppModule {}
    const failed = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false }).catch(
      (e: unknown) => e,
    );
    expect(String(failed)).toMatch(/Orphan\.nobodyOwnsMe has no consumer group: import EventBusModule\.forFeature/);
  });
});
