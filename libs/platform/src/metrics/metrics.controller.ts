import { Controller, Get, NotFoundException, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { EventBusCore } from '@nest-streams/event-bus';

interface HeaderResponse {
  setHeader(name: string, value: string): void;
}

/** `GET /metrics`: the bus registry in the Prometheus text format, for scrapers rather than API users. */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly core: EventBusCore) {}

  @Get()
  async scrape(@Res({ passthrough: true }) res: HeaderResponse): Promise<string> {
    const metrics = this.core.metrics;
    if (!metrics) throw new NotFoundException('metrics are off in this process (EventBusModule `metrics: false`)');
    const body = await metrics.registry.metrics();
    res.setHeader('Content-Type', metrics.registry.contentType);
    return body;
  }
}
