import { Module } from '@nestjs/common';
import Redis, { Cluster } from 'ioredis';
import { EventStore } from './event-store';
import { ConfigurableEventStoreModule, EVENT_STORE_MODULE_OPTIONS } from './event-store-module-definition';
import type { EventStoreModuleOptions } from './interfaces/event-store-options.interface';

/** Builds the store from module options: shares a given client, or opens (and later closes) its own. */
export function createEventStore(options: EventStoreModuleOptions): EventStore {
  const { redis, ...rest } = options;
  // NOTE: a Cluster client (the bus's on Redis Cluster) is shared like a Redis one.
  if (redis instanceof Redis || (redis as unknown) instanceof Cluster) return new EventStore(redis as Redis, rest);
  const client =
    typeof redis === 'object'
      ? new Redis({ connectionName: 'event-store', ...redis })
      : new Redis(redis ?? 'redis://127.0.0.1:6379', { connectionName: 'event-store' });
  return new EventStore(client, rest, true);
}

/**
 * Provides `EventStore`. `forRoot({ redis, namespace })` or `forRootAsync({ inject, useFactory })`,
 * e.g. sharing the event bus's connection and namespace:
 *
 * @example
 * EventStoreModule.forRootAsync({
 *   inject: [EventBusCore],
 *   useFactory: (core: EventBusCore) => ({ redis: core.redis, namespace: core.keys.namespace }),
 * })
 */
@Module({
  providers: [{ provide: EventStore, useFactory: createEventStore, inject: [EVENT_STORE_MODULE_OPTIONS] }],
  exports: [EventStore],
})
export class EventStoreModule extends ConfigurableEventStoreModule {}
