import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { EventBusHealthIndicator } from './event-bus.health';
import { HealthController } from './health.controller';

/** `/health/live` and `/health/ready` (@nestjs/terminus), in every platform process. */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [EventBusHealthIndicator],
})
export class HealthModule {}
