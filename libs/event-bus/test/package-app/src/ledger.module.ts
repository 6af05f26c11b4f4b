import { Module } from '@nestjs/common';
import { EventBusCore } from '@nest-streams/event-bus';
import { EventStoreModule } from '@nest-streams/event-store';

/** The event store on the event bus's connection and namespace. */
@Module({
  imports: [
    EventStoreModule.forRootAsync({
      inject: [EventBusCore],
      useFactory: (core: EventBusCore) => ({ redis: core.redis, namespace: core.keys.name }),
    }),
  ],
})
export class LedgerModule {}
