import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AnalyticsRepository } from './analytics.repository';
import { AnalyticsSummaryDto } from './dto/analytics-summary.dto';

@ApiTags('analytics')
@Controller('analytics')
export class AnalyticsController {
  constructor(private readonly analytics: AnalyticsRepository) {}

  @Get('summary')
  @ApiOperation({
    summary: 'Orders placed, confirmed and cancelled (by reason), revenue, top SKUs and a per-day series',
  })
  @ApiOkResponse({ type: AnalyticsSummaryDto })
  summary(): Promise<AnalyticsSummaryDto> {
    return this.analytics.summary();
  }
}
