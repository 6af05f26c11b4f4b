import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { contractRegistry } from '@nest-streams/event-bus/catalogue';
import '@app/contracts';

class EventTypeDto {
  @ApiProperty({ example: 'OrderPlaced' })
  type!: string;

  @ApiProperty({ example: 1 })
  version!: number;

  @ApiProperty({ example: 'orders' })
  stream!: string;
}

@ApiTags('events')
@Controller('events')
export class EventTypesController {
  @Get('types')
  @ApiOkResponse({ type: [EventTypeDto], description: 'Every event contract this platform knows, by type and version' })
  types(): EventTypeDto[] {
    return contractRegistry
      .all()
      .map(({ meta }) => ({ type: meta.type, version: meta.version, stream: meta.stream }))
      .sort((a, b) => a.type.localeCompare(b.type) || a.version - b.version);
  }
}
