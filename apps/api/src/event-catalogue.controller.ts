import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AsyncApiDocument, buildAsyncApi, contractRegistry, upcasterRegistry } from '@nest-streams/event-bus/catalogue';
import { EventBusCore } from '@nest-streams/event-bus';
import { EventBusExplorer } from '@nest-streams/event-bus/event-bus.explorer';
import '@app/contracts';

/** The event catalogue of the running platform, as AsyncAPI. */
@ApiTags('events')
@Controller('events')
export class EventCatalogueController {
  constructor(
    private readonly core: EventBusCore,
    private readonly explorer: EventBusExplorer,
  ) {}

  @Get('asyncapi.json')
  @ApiOperation({
    summary:
      'AsyncAPI 3.0 document of every event: streams (channels), types and versions (messages with their JSON Schema), publishers and consumer groups (operations)',
  })
  @ApiOkResponse({
    description: 'an AsyncAPI 3.0.0 document; consumers are the consumer groups bound in this process',
    schema: { type: 'object' },
  })
  asyncApi(): AsyncApiDocument {
    return buildAsyncApi({
      title: 'Shop events',
      description:
        'The events the shop services publish and consume through Redis Streams (docs/contract.md). Generated from the contracts and the bindings of this process.',
      namespace: this.core.keys.namespace,
      contracts: contractRegistry.all(),
      subscriptions: this.explorer.subscriptions,
      upcasters: upcasterRegistry.all(),
    });
  }
}
