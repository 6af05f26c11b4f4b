import { Get, Param, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import { OpsErrorDto } from '../dto/ops-error.dto';
import { OpsController } from '../http/ops-controller.decorator';
import { EntryIdPipe, RegisteredStreamPipe } from '../http/ops-params';
import { EntryPageDto, ListEntriesQuery, StreamEntryDto, StreamSummaryDto } from './stream.dto';
import { StreamsService } from './streams.service';

@OpsController('streams', 'ops: streams')
@ApiBadRequestResponse({ type: OpsErrorDto, description: 'a malformed stream name, id or query' })
@ApiNotFoundResponse({ type: OpsErrorDto, description: 'a stream no event contract names, or no such entry' })
export class StreamsController {
  constructor(private readonly streams: StreamsService) {}

  @Get()
  @ApiOperation({
    summary: 'Every registered stream: length, first and last entry, groups, retention policy, dead letters',
  })
  @ApiOkResponse({ type: [StreamSummaryDto] })
  list(): Promise<StreamSummaryDto[]> {
    return this.streams.summaries();
  }

  @Get(':stream/entries')
  @ApiOperation({
    summary:
      'Entries of a stream, newest or oldest first, filtered by type, subject, payload text and id/time range; paged by cursor',
  })
  @ApiParam({ name: 'stream', example: 'orders' })
  @ApiOkResponse({ type: EntryPageDto })
  entries(
    @Param('stream', RegisteredStreamPipe) stream: string,
    @Query() query: ListEntriesQuery,
  ): Promise<EntryPageDto> {
    return this.streams.entries(stream, query);
  }

  @Get(':stream/entries/:id')
  @ApiOperation({ summary: 'One entry by its stream id' })
  @ApiParam({ name: 'stream', example: 'orders' })
  @ApiParam({ name: 'id', example: '1735689600000-0' })
  @ApiOkResponse({ type: StreamEntryDto })
  entry(
    @Param('stream', RegisteredStreamPipe) stream: string,
    @Param('id', EntryIdPipe) id: string,
  ): Promise<StreamEntryDto> {
    return this.streams.entry(stream, id);
  }
}
