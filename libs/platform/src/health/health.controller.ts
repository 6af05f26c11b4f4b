import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { EventBusHealthIndicator } from './event-bus.health';

const REDIS_TIMEOUT_MS = 1_000;

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly bus: EventBusHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process runs and its consumer loops are alive (restart it when this fails)' })
  live() {
    return this.health.check([() => this.bus.consumers()]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary:
      'Readiness: Redis answers within 1 s and every consumer loop is alive (route traffic only when this passes)',
  })
  ready() {
    return this.health.check([() => this.bus.redis(REDIS_TIMEOUT_MS), () => this.bus.consumers()]);
  }
}
