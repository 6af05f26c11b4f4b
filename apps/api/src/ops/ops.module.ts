import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { ThrottlerModule } from '@nestjs/throttler';
import { EventBusCore } from '@nest-streams/event-bus';
import type { Environment } from '@app/platform';
import { ServiceStoreModule } from '@app/platform';
import '@app/contracts';
import { ConsoleSessionsModule } from '../console/sessions/console-sessions.module';
import { ApiKeyGuard } from './auth/api-key.guard';
import { OpsApiKeys } from './auth/ops-api-keys';
import { OpsCallers } from './auth/ops-callers';
import { OpsThrottlerGuard } from './auth/ops-throttler.guard';
import { DeadLettersController } from './dead-letters/dead-letters.controller';
import { OpsEventsController } from './events/events.controller';
import { FlowIndexer } from './flows/flow-indexer';
import { FlowsController } from './flows/flows.controller';
import { FlowsService } from './flows/flows.service';
import { GroupsController } from './groups/groups.controller';
import { GroupsService } from './groups/groups.service';
import { OPS_SERVICE, REPLAY_QUEUE } from './ops.constants';
import { ReplayCancellations } from './replays/replay-cancellations';
import { ReplayJobsService } from './replays/replay-jobs.service';
import { ReplayProcessor } from './replays/replay.processor';
import { ReplaysController } from './replays/replays.controller';
import { RetentionController } from './retention/retention.controller';
import { StreamsController } from './streams/streams.controller';
import { StreamsService } from './streams/streams.service';

/**
 * The operations API under `/ops`: streams, entries, groups, pending entries, dead
 * letters, replays (BullMQ queue `replays`), publishing, retention, and the flow view (
 * `GET /ops/flows/:id`, indexed by the `flow-index` consumer group). Behind API keys
 * (`API_KEYS`, reader/operator) or a console session (ConsoleSessionsModule), rate limited (`OPS_RATE_LIMIT` per minute, counted in Redis across
 * instances), errors in one shape.
 * Needs `PlatformModule.forRoot()` in the root module (config, bus, BullMQ connection).
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [ConfigService, EventBusCore],
      useFactory: (config: ConfigService<Environment, true>, core: EventBusCore) => ({
        throttlers: [{ ttl: 60_000, limit: config.get('OPS_RATE_LIMIT', { infer: true }) }],
        // NOTE: counted in Redis (the bus's connection, which the storage does not close), so the
        // limit holds across every instance of the platform, not per process.
        storage: new ThrottlerStorageRedisService(core.redis),
      }),
    }),
    BullModule.registerQueue({ name: REPLAY_QUEUE }),
    ServiceStoreModule.forService(OPS_SERVICE),
    ConsoleSessionsModule,
  ],
  controllers: [
    StreamsController,
    GroupsController,
    DeadLettersController,
    ReplaysController,
    OpsEventsController,
    RetentionController,
    FlowsController,
  ],
  providers: [
    OpsApiKeys,
    OpsCallers,
    ApiKeyGuard,
    OpsThrottlerGuard,
    StreamsService,
    GroupsService,
    ReplayCancellations,
    ReplayJobsService,
    ReplayProcessor,
    FlowIndexer,
    FlowsService,
  ],
  exports: [OpsApiKeys, OpsCallers],
})
export class OpsModule {}
