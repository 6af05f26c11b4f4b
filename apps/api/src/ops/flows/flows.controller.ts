import { Get, Param } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import { OpsErrorDto } from '../dto/ops-error.dto';
import { OpsController } from '../http/ops-controller.decorator';
import { FlowIdPipe } from './flow-id.pipe';
import { FlowViewDto } from './flow.dto';
import { FlowsService } from './flows.service';

@OpsController('flows', 'ops: flows')
export class FlowsController {
  constructor(private readonly flows: FlowsService) {}

  @Get(':id')
  @ApiOperation({
    summary:
      'Every event of one business flow across streams, as a tree by causation id, with what each consumer group did with each event',
    description:
      'The id is tried as a correlation id, then as an event id, then as a subject (an order id: its latest flow; otherCorrelationIds lists the others). ' +
      'Per group: handled (when, after how many deliveries), pending (consumer, idle, deliveries), dead-lettered (reason, error), acknowledged, not delivered yet.',
  })
  @ApiParam({ name: 'id', example: 'ORD-MB2K1X7Q-3FA91C' })
  @ApiOkResponse({ type: FlowViewDto })
  @ApiBadRequestResponse({
    type: OpsErrorDto,
    description: 'an id with characters outside the allowed alphabet, or longer than 256',
  })
  @ApiNotFoundResponse({
    type: OpsErrorDto,
    description: 'no flow has this correlation id, event id or subject (or it expired: FLOW_INDEX_TTL_SECONDS)',
  })
  view(@Param('id', FlowIdPipe) id: string): Promise<FlowViewDto> {
    return this.flows.view(id);
  }
}
