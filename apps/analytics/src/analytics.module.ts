import { Module } from '@nestjs/common';
import { EventBusModule } from '@nest-streams/event-bus';
import { ServiceStoreModule } from '@app/platform';
import { AnalyticsController } from './analytics.controller';
import { AnalyticsRepository } from './analytics.repository';
import { AnalyticsService } from './analytics.service';

/** The analytics service: a projection of the order events; consumer group `analytics`, routes under `/analytics`. */
@Module({
  imports: [
    EventBusModule.forFeature({ group: 'analytics', source: 'analytics-service' }),
    ServiceStoreModule.forService('analytics'),
  ],
  controllers: [AnalyticsController],
  providers: [AnalyticsService, AnalyticsRepository],
})
export class AnalyticsModule {}
