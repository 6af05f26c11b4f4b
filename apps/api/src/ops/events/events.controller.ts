import { Body, NotFoundException, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOperation } from '@nestjs/swagger';
import { contractRegistry } from '@nest-streams/event-bus/catalogue';
import { EventBusCore, EventPublisher } from '@nest-streams/event-bus';
import { OpsErrorDto } from '../dto/ops-error.dto';
import { OpsController } from '../http/ops-controller.decorator';
import { OPS_SOURCE } from '../ops.constants';
import { PublishedEventDto, PublishEventDto } from './publish-event.dto';

@OpsController('events', 'ops: events')
export class OpsEventsController {
  private readonly publisher: EventPublisher;

  constructor(core: EventBusCore) {
    this.publisher = new EventPublisher(core, OPS_SOURCE);
  }

  @Post()
  @ApiOperation({
    summary: 'Publishes an event of a registered type, validated against its contract, with source ops-api [operator]',
  })
  @ApiCreatedResponse({ type: PublishedEventDto })
  @ApiBadRequestResponse({
    type: OpsErrorDto,
    description: 'the payload breaks the contract: details names each field (data.<field>)',
  })
  @ApiNotFoundResponse({ type: OpsErrorDto, description: 'no contract for this type (and version)' })
  async publish(@Body() body: PublishEventDto): Promise<PublishedEventDto> {
    const contract = body.version === undefined ? newest(body.type) : contractRegistry.find(body.type, body.version);
    if (!contract) {
      throw new NotFoundException(
        body.version === undefined || !contractRegistry.hasType(body.type)
          ? `unknown event type "${body.type}": GET /events/types lists the registered ones`
          : `event type ${body.type} has no version ${body.version}`,
      );
    }
    const event = instanceWith(new contract.cls(), body.data);
    const published = await this.publisher.publish(event, body.subject === undefined ? {} : { subject: body.subject });
    return { id: published.envelope.id, entryId: published.entryId, stream: published.stream };
  }
}

function newest(type: string): ReturnType<typeof contractRegistry.find> {
  return contractRegistry
    .all()
    .filter(({ meta }) => meta.type === type)
    .sort((a, b) => b.meta.version - a.meta.version)[0];
}

/** `Object.assign` without its one trap: an own `__proto__` key (JSON.parse makes one) would swap the prototype. */
function instanceWith<T extends object>(target: T, data: Record<string, unknown>): T {
  for (const [key, value] of Object.entries(data)) {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return target;
}
