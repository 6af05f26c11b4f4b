import { DynamicModule, Module, Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { EVENT_BUS_FEATURE_OPTIONS } from './event-bus.constants';
import { ConfigurableEventBusModule, EVENT_BUS_MODULE_OPTIONS } from './event-bus-module-definition';
import { EventBusCore } from './event-bus.core';
import { EventBusExplorer } from './event-bus.explorer';
import { EventBusMetadataAccessor } from './event-bus-metadata.accessor';
import type { EventBusFeatureOptions, EventBusModuleOptions } from './interfaces/event-bus-options.interface';
import { EventBusMetricsCollector } from './observability/metrics.collector';
import { EventPublisher } from './publisher/event-publisher';
import { DeadLetterService } from './dead-letter/dead-letter.service';
import { ReplayService } from './ops/replay.service';
import { GroupAdminService } from './ops/group-admin.service';
import { RetentionService } from './ops/retention.service';
import { RawSubscriptions } from './subscriptions/raw-subscriptions.service';
import { assertName } from './utils/names';
import { ContractCompatibilityCheck } from './versioning/contract-compatibility.check';

const rootPublisher: Provider = {
  provide: EventPublisher,
  useFactory: (core: EventBusCore, options: EventBusModuleOptions) => new EventPublisher(core, options.source ?? 'app'),
  inject: [EventBusCore, EVENT_BUS_MODULE_OPTIONS],
};

/**
 * The event bus. `forRoot`/`forRootAsync` once per application (connection, namespace, tuning);
 * `forFeature({ group })` in each service module: its handlers form that consumer group and its
 * `EventPublisher` publishes with that service as `source`.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    EventBusCore,
    EventBusExplorer,
    EventBusMetadataAccessor,
    DeadLetterService,
    ReplayService,
    GroupAdminService,
    RetentionService,
    ContractCompatibilityCheck,
    EventBusMetricsCollector,
    rootPublisher,
    RawSubscriptions,
  ],
  exports: [
    EventBusCore,
    EventPublisher,
    EventBusExplorer,
    DeadLetterService,
    ReplayService,
    GroupAdminService,
    RetentionService,
    RawSubscriptions,
  ],
})
export class EventBusModule extends ConfigurableEventBusModule {
  static forFeature(options: EventBusFeatureOptions): DynamicModule {
    assertName('consumer group', options.group);
    const publisher: Provider = {
      provide: EventPublisher,
      useFactory: (core: EventBusCore) => new EventPublisher(core, options.source ?? options.group),
      inject: [EventBusCore],
    };
    return {
      module: EventBusFeatureModule,
      providers: [{ provide: EVENT_BUS_FEATURE_OPTIONS, useValue: options }, publisher],
      exports: [EventPublisher],
    };
  }
}

/** Host of one `forFeature` registration. */
@Module({})
export class EventBusFeatureModule {}
